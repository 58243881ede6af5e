@epic:broadcaster-lifecycle @owner:streaming-team @contract:reconnect
Feature: A broadcaster's connection comes back
  Real networks blip. A stream with a reconnect window waits for its broadcaster: when her
  connection goes, the stream is interrupted, not ended; her viewers stay and are told; and when
  her encoder comes back with the same key within the window, the stream carries on where it
  was. Only when the window runs out, or she ends it herself, is it ended.

  SPECIFICATION:
    * A stream is given a reconnect window when it is created: 0 to 1800 whole seconds, 0 by
      default (ended at once, as without one). These scenarios use windows of a few seconds.
    * The broadcaster's connection goes: the stream is interrupted in the API, the database,
      Redis and the metrics, its viewers stay joined and counted, its room is told, and a
      "stream interrupted" event is published.
    * The same key within the window: the stream is live again, viewers are told it resumed,
      counts and peak carry on, and its playlist carries on: the media sequence continues and
      the new media is marked as a discontinuity (RFC 8216 4.3.2.3), and a browser that was
      playing plays on, without a reload of the page.
    * The window runs out: the stream is ended, dated when its broadcaster went away, with the
      duration of its media (the interruptions do not count), within 2 seconds of the window.
    * The broadcaster ends an interrupted stream herself: it is ended at once. She may also
      change the window until the stream ends; an interrupted stream's runs from when it was
      interrupted.
    * While interrupted, a wrong key is still refused; once back, a second broadcaster is too.
    * A network that vanishes silently (no goodbye, no reset) does not lock the broadcaster
      out: the ingest lets a publisher go 2 seconds after its last media, so an encoder that
      retries every second is back within 6 seconds of the loss.


  Rule: A dropped connection interrupts the stream, and the same key resumes it

    @severity:critical
    Scenario: Ada's connection drops and she is back within the window
      Given Ada has created a stream with a reconnect window of 10 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 2 seconds of video
      And Ben has joined Ada's stream
      When Ada's connection drops
      Then Ada's stream is interrupted everywhere
      And Ben is told that Ada's stream was interrupted
      And Ada's stream has 1 viewer and a peak of 1 everywhere
      When Ada goes live again with the same key 2 seconds later
      Then Ada's stream is live everywhere
      And Ben is told that Ada's stream resumed
      And Ada's stream has 1 viewer and a peak of 1 everywhere
      And the platform announces that Ada's stream was interrupted and then resumed
      And the analytics record Ada's stream as:
        | starts | interruptions | resumes | joins |
        | 1      | 1             | 1       | 1     |

    Scenario: Ben's video carries on across the interruption
      Given Ada has created a stream with a reconnect window of 10 seconds
      And Ada has broadcast 2 seconds of video
      And Ben is watching Ada's video
      When Ada's connection drops
      And Ada goes live again with the same key 6 seconds later
      Then Ada's video carried on across the interruption for Ben

    @browser
    Scenario: Ben's browser plays on across the interruption
      Given Ada has created a stream with a reconnect window of 20 seconds
      And Ada has broadcast 2 seconds of video
      And Ben is playing Ada's stream in a browser
      When Ada's connection drops
      And Ada goes live again with the same key 12 seconds later
      Then Ben's browser plays Ada's video again without a reload of the page

    Scenario: Ada does not come back in time
      Given Ada has created a stream with a reconnect window of 4 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 2 seconds of video
      When Ada's connection drops
      Then Ada's stream is interrupted everywhere
      And Ada's stream has ended everywhere within 7 seconds
      And Ben is told that Ada's stream ended
      And the platform announces that Ada's stream ended after as long as she was live

    Scenario: Ada ends her interrupted stream at once
      Given Ada has created a stream with a reconnect window of 4 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 1 second of video
      And Ada's connection has dropped
      When Ada ends her stream through the platform
      Then Ada's stream has ended everywhere within 2 seconds
      And Ben is told that Ada's stream ended

    Scenario: Ada gives her interrupted stream more time
      Given Ada has created a stream with a reconnect window of 4 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 1 second of video
      And Ada's connection has dropped
      When Ada changes her stream's reconnect window to 20 seconds
      And Ada tries to go live again with the same key 6 seconds later
      Then Ada's stream is live everywhere
      And Ben is told that Ada's stream resumed

  Rule: The window opens to Ada's key alone

    @security
    Scenario: A wrong key is refused while the stream is interrupted
      Given Ada has created a stream with a reconnect window of 4 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 1 second of video
      And Ada's connection has dropped
      When Ada tries to go live with a wrong key
      Then Ada is refused
      And Ada's stream is still interrupted

    @security
    Scenario: A second broadcaster is refused once Ada is back
      Given Ada has created a stream with a reconnect window of 4 seconds
      And Ben is watching Ada's stream page
      And Ada has broadcast 1 second of video
      And Ada's connection has dropped
      And Ada has gone live again with the same key
      When someone else tries to go live with Ada's key
      Then they are refused
      And Ada's stream is still live

  Rule: An encoder gets back in after its network vanished silently

    @netcut
    Scenario: Ada's network vanishes and her encoder's retries bring her back
      Given Ada has created a stream with a reconnect window of 10 seconds
      And Ben is watching Ada's stream page
      And Ada's encoder retries every 1 second
      And Ada is broadcasting through her encoder
      When Ada's network goes silent
      Then Ada's stream is interrupted everywhere within 6 seconds
      And Ada's encoder is back within 6 seconds of the loss
      And Ada's stream is live everywhere
      And Ben is told that Ada's stream resumed

    @ffmpeg
    Scenario: ffmpeg, restarted by its operator with the same key, resumes the stream
      Given Ada has created a stream with a reconnect window of 10 seconds
      And Ben is watching Ada's stream page
      And Ada is broadcasting with ffmpeg
      When ffmpeg is killed
      Then Ada's stream is interrupted everywhere
      When Ada starts ffmpeg again with the same key
      Then Ada's stream is live everywhere
      And Ben is told that Ada's stream resumed

    @ffmpeg @browser
    Scenario: Ben's browser plays on when ffmpeg is restarted
      Given Ada has created a stream with a reconnect window of 10 seconds
      And Ada is broadcasting with ffmpeg
      And Ben is playing Ada's stream in a browser
      When ffmpeg is killed
      Then Ada's stream is interrupted everywhere
      When Ada starts ffmpeg again with the same key
      Then Ben's browser plays Ada's video again without a reload of the page
