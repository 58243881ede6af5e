@epic:fan-out @owner:streaming-team @contract:websocket
Feature: Broadcast fan-out
  Everyone with a stream's page open receives that stream's events, once each, in the order they
  happened, and nothing from other streams.

  SPECIFICATION:
    * A stream's room tells its viewers: the stream started, the viewer count changed (with the
      count and the peak), the stream ended; each event once, in order, as the contract says.
    * A room is per stream: a viewer of another stream hears nothing of this one.
    * A viewer who closes the page is let go cleanly (RFC 6455 close handshake); the others
      carry on.
    * Opening the page of a stream that does not exist is turned away.
    * Events are not replayed: a viewer who arrives later only hears what happens after.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: Everyone in the room hears each event once, in order

    @smoke @severity:critical
    Scenario: Ben and Cleo follow Ada's whole broadcast
      Given Ben is watching Ada's stream page
      And Cleo is watching Ada's stream page
      When Ada goes live
      And Dan joins Ada's stream
      And Dan leaves Ada's stream
      And Ada ends the broadcast
      Then everyone watching Ada's stream page is told, in order:
        | event                | viewers | peak |
        | stream_started       |         |      |
        | viewer_count_changed | 1       | 1    |
        | viewer_count_changed | 0       | 1    |
        | stream_ended         |         |      |

  Rule: A room only hears its own stream

    Scenario: Cleo, watching another stream, hears nothing of Ada's
      Given Ben has created a stream called "Evening swim"
      And Ben is watching Ada's stream page
      And Cleo is watching Ben's stream page
      When Ada goes live
      And Dan joins Ada's stream
      Then Ben is told that the viewer count changed to 1
      And Cleo has been told nothing

  Rule: A viewer who closes the page is let go, and the others carry on

    Scenario Outline: <leaver> closes the page first and <stayer> carries on
      Given Ben is watching Ada's stream page
      And Cleo is watching Ada's stream page
      And Ada has gone live
      When <leaver> closes Ada's stream page
      And Dan joins Ada's stream
      Then <stayer> is told that the viewer count changed to 1
      And the platform let <leaver>'s page go cleanly

      Examples:
        | leaver | stayer |
        | Ben    | Cleo   |
        | Cleo   | Ben    |

  Rule: Only the rooms of real streams open

    @security
    Scenario: The page of a stream that does not exist is turned away
      When Ben opens the page of a stream that does not exist
      Then Ben is turned away as the stream is not found

  Rule: Nothing is replayed to a late arrival

    Scenario: Ben arrives after Ada went live
      Given Cleo is watching Ada's stream page
      And Ada has gone live
      And Ben is watching Ada's stream page
      When Dan joins Ada's stream
      Then Ben is told that the viewer count changed to 1
      And Ben has not been told that Ada's stream started
