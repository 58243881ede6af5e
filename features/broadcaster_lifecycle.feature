@epic:broadcaster-lifecycle @owner:streaming-team @contract:ingest @contract:streams
Feature: Broadcaster lifecycle
  A broadcaster goes live over RTMP with the stream key the platform gave them, is seen as live
  everywhere, ends, and is seen as ended everywhere. Anyone else is refused, and a refused
  broadcaster changes nothing.

  SPECIFICATION:
    * Going live: the stream is live in the API and in the database, counted among the active
      streams, announced in its room, and a "stream started" event is published.
    * Ending, cleanly or by a dropped connection: the stream is ended in the API and the database
      with the time it ended and a duration within half a second of how long it was live (counted
      from going live, not from creating the stream), is no longer
      active, is announced in its room, and a "stream ended" event is published.
    * A broadcaster whose connection drops is ended within 5 seconds.
    * Only a live stream can be joined: before it goes live and after it ends, a viewer is told
      it is not live.
    * Refused: a wrong key, a stream that does not exist, someone else's stream, an ended
      stream's key, a second broadcaster while the stream is live.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: The right key takes a waiting stream live

    @smoke @severity:blocker
    Scenario: Ada goes live
      Given Ben is watching Ada's stream page
      When Ada goes live
      Then Ada's stream is live everywhere
      And Ben is told that Ada's stream started
      And the platform announces that Ada's stream started

    Scenario: A stream nobody publishes stays waiting
      Then Ada's stream is waiting to go live
      And Ada's stream has no video to watch

  Rule: Only a live stream can be joined

    Scenario: Nobody can join a stream before it goes live
      When Ben tries to join Ada's stream
      Then Ben is told the stream is not live

    Scenario: Nobody can join a stream after it ended
      Given Ada has broadcast 1 second of video
      And Ada has ended the broadcast
      When Ben tries to join Ada's stream
      Then Ben is told the stream is not live

  Rule: Ending the broadcast ends the stream everywhere

    @severity:critical
    Scenario: Ada ends her broadcast
      Given Ben is watching Ada's stream page
      And Ada's stream has waited 2 seconds to go live
      And Ada has broadcast 2 seconds of video
      When Ada ends the broadcast
      Then Ada's stream has ended everywhere
      And Ben is told that Ada's stream ended
      And the platform announces that Ada's stream ended after as long as she was live

    Scenario: Ada's connection drops without a goodbye
      Given Ada's stream has waited 2 seconds to go live
      And Ada has broadcast 1 second of video
      When Ada's connection drops
      Then Ada's stream has ended everywhere within 5 seconds

  Rule: Only the right key of a waiting stream gets in, and a refused broadcaster changes nothing

    @security
    Scenario Outline: Ada is refused <attempt>
      Given Ben has created a stream called "Evening swim"
      When Ada tries to go live <attempt>
      Then Ada is refused
      And no stream has gone live

      Examples:
        | attempt                         |
        | with a wrong key                |
        | without a key                   |
        | on a stream that does not exist |
        | on Ben's stream                 |

    @security
    Scenario: An ended stream's key no longer works
      Given Ada has broadcast 1 second of video
      And Ada has ended the broadcast
      When Ada tries to go live again with the same key
      Then Ada is refused
      And Ada's stream is still ended

    @security
    Scenario: A second broadcaster is refused while the first is live
      Given Ada has gone live
      When someone else tries to go live with Ada's key
      Then they are refused
      And Ada's stream is still live
