@epic:platform @owner:streaming-team @contract:identity @contract:streams @smoke
Feature: The platform is up and guards its API
  A broadcaster prepares a stream before going live, and only people who say who they are
  may use the platform's API.

  SPECIFICATION:
    * A new stream waits to go live ("preparing") until its broadcaster publishes.
    * The stream key is a secret between the platform and the stream's creator.
    * Every call to the API carries a valid token; anything else is refused as not signed in.

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
