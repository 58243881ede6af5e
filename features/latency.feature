@epic:latency @owner:video-team @contract:latency
Feature: Delay behind the camera
  A viewer sees what the broadcaster's camera saw a few seconds before, never later than the
  platform promises, whatever else fails.

  SPECIFICATION:
    * The suite's broadcaster stamps every frame with the instant it sent it (an H.264 SEI
      message), so the delay is measured where a viewer meets the video: a segment listed in
      the playlist, the picture in the browser, and the events the stream's page is told.
    * On the embedded platform a segment is listed at most 1.5 s after its first frame was sent
      (its 1 s fragment, and 0.5 s to write, list and fetch it), and the picture in a browser is
      at most 4.5 s behind the camera (a fragment, the player's reload, its live sync distance of
      two target durations, and the same 0.5 s). Another target declares its own bounds.
    * The video is no later while the database, the viewer counts store, the event broker or the
      streaming service is down: the video path needs none of them.
    * After a broadcaster comes back within her reconnect window, the picture is within the
      bound again once it plays on.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: A viewer is never far behind the camera

    Scenario: Every segment of Ada's video is listed a fragment after her camera sent it
      Given Ada has gone live
      When Ada's video is timed for 3 seconds
      Then every segment of Ada's video was listed within the promised delay of her camera

    @browser
    Scenario: Ben's browser shows Ada's camera no later than the platform promises
      Given Ada has broadcast 5 seconds of video
      And Ben is watching Ada's stream page
      And Cleo has joined Ada's stream
      When Ben plays Ada's stream in a browser for 5 seconds
      Then Ben's browser was never further behind Ada's camera than promised

  Rule: After a broadcaster comes back, the viewer is soon within the bound again

    @browser
    Scenario: Ben's browser is within the promised delay again after Ada comes back
      Given Ada has changed her stream's reconnect window to 20 seconds
      And Ada has broadcast 6 seconds of video
      And Ben is playing Ada's stream in a browser
      When Ada's connection drops
      And Ada goes live again with the same key 4 seconds later
      Then Ben's browser plays Ada's video again without a reload of the page
      And Ben's browser is back within the promised delay of Ada's camera

  Rule: The video does not slow down when another server fails

    @fault
    Scenario: Ada's video is no later while every server but the ingest is down
      Given Ada has gone live
      And the streaming service is down
      And the database is down
      And the viewer counts store is down
      And the event broker is down
      When Ada's video is timed for 3 seconds
      Then every segment of Ada's video was listed within the promised delay of her camera
