@epic:platform @owner:streaming-team @contract:identity @contract:streams @smoke
Feature: The platform is up and guards its API
  A broadcaster prepares a stream before going live, and only people who say who they are
  may use the platform's API.

  SPECIFICATION:
    * A new stream waits to go live ("preparing") until its broadcaster publishes.
    * The stream key is a secret between the platform and the stream's creator.
    * Every call to the API carries a valid token; anything else is refused as not signed in.
    * A stream that does not exist is not found; a question the API cannot answer is refused as
      a bad request, never with a server error.

  Background:
    Given Ada is a broadcaster

  @severity:critical
  Scenario: A new stream waits for its broadcaster
    When Ada creates a stream called "Morning run"
    Then Ada's stream is waiting to go live
    And Ada's stream is not among the live streams

  @security
  Scenario: Only the creator is shown the stream key
    Given Ada has created a stream called "Morning run"
    When Ben looks at Ada's stream
    Then Ben is not shown the stream key
    But Ada, its creator, is shown the stream key

  @security
  Scenario Outline: A visitor with <credentials> is refused
    When a visitor with <credentials> asks for the live streams
    Then the visitor is refused as not signed in

    Examples:
      | credentials        |
      | no token           |
      | a forged token     |
      | an expired token   |
      | a malformed token  |

  Scenario: A stream needs a title
    When Ada creates a stream without a title
    Then Ada is told the stream needs a title

  @security
  Scenario Outline: A visitor without a token cannot <act> a stream
    Given Ada has created a stream called "Morning run"
    When a visitor with no token tries to <act> Ada's stream
    Then the visitor is refused as not signed in

    Examples:
      | act     |
      | look at |
      | join    |
      | leave   |

  @security
  Scenario: A visitor without a token cannot create a stream
    When a visitor with no token tries to create a stream
    Then the visitor is refused as not signed in

  Scenario Outline: Ada <acts> a stream that does not exist
    When Ada <acts> a stream that does not exist
    Then Ada is told the stream is not found

    Examples:
      | acts     |
      | looks at |
      | joins    |
      | leaves   |

  Scenario: Streams cannot be listed by a status that does not exist
    When Ada asks for the streams that are "streaming"
    Then Ada is told there is no such status
