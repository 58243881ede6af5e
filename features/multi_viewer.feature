@epic:multi-viewer @owner:streaming-team @contract:viewers @contract:websocket
Feature: Many viewers, one truth
  Viewers join, watch and leave; the number watching and the peak agree in every place they
  appear: the API, Redis, every viewer's page, and once the stream has ended, the database.

  SPECIFICATION:
    * A viewer is counted once, however often they join; leaving lowers the count, never below
      zero, and someone who never joined changes nothing by leaving.
    * The peak is the most viewers at once, and stays when viewers leave.
    * Each stream counts its own viewers.
    * The end of a stream reaches every viewer.

  Background:
    Given Ada has created a stream called "Morning run"
    And Ada has gone live

  Rule: The count and the peak agree everywhere

    Scenario Outline: <count> viewers are counted everywhere
      Given <count> viewers are watching Ada's stream page
      When they all join Ada's stream
      Then Ada's stream has <count> viewers and a peak of <count> everywhere

      Examples:
        | count |
        | 1     |
        | 3     |
        | 25    |

    @severity:critical
    Scenario: The peak is kept when the stream ends
      Given Ben has joined Ada's stream
      And Cleo has joined Ada's stream
      And Dan has joined Ada's stream
      And Cleo has left Ada's stream
      When Ada ends the broadcast
      Then Ada's ended stream keeps a peak of 3 viewers

  Rule: A viewer is counted once, and leaving never goes below zero

    Scenario: Joining twice counts once
      Given Ben has joined Ada's stream
      And the platform's metrics have been read
      When Ben joins Ada's stream again
      Then Ada's stream has 1 viewer and a peak of 1 everywhere
      And the metrics have changed by:
        | metric       | change |
        | viewer joins | 0      |
      And the platform has published, in order, for Ada's stream:
        | event          | viewers | peak |
        | stream.started |         |      |
        | viewer.joined  | 1       |      |

    Scenario: Leaving lowers the count, and the peak stays
      Given Ben has joined Ada's stream
      And Cleo has joined Ada's stream
      When Ben leaves Ada's stream
      And Ben leaves Ada's stream again
      And Dan, who never joined, leaves Ada's stream
      Then Ada's stream has 1 viewer and a peak of 2 everywhere

  Rule: Each stream counts its own viewers

    Scenario: Two streams live at once
      Given Ben has created a stream called "Evening swim"
      And Ben has gone live
      When Cleo joins Ada's stream
      And Dan joins Ada's stream
      And Eve joins Ben's stream
      Then Ada's stream has 2 viewers and a peak of 2 everywhere
      And Ben's stream has 1 viewer and a peak of 1 everywhere

  Rule: The end reaches everyone

    Scenario: Every viewer hears that the stream ended
      Given 25 viewers are watching Ada's stream page
      When Ada ends the broadcast
      Then every viewer is told that Ada's stream ended

    @load @slow
    Scenario: A crowd hears every event
      Given a crowd is watching Ada's stream page
      When Ben joins Ada's stream
      And Ada ends the broadcast
      Then every viewer is told every event of Ada's stream
      And the delivery times are reported
