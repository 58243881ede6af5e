@epic:hls @owner:video-team @contract:hls
Feature: HLS validation
  What viewers download is a correct, live HLS stream (RFC 8216), all the way down to the
  MPEG-TS packets, and it plays in a real browser.

  SPECIFICATION:
    * Every playlist, and every reload of it, follows RFC 8216; every segment is MPEG-TS that
      starts with a keyframe and lasts what the playlist says; the timeline runs on without gaps.
    * A stream can be watched within 5 seconds of its broadcaster going live.
    * The segments decode to the video and sound that were published, at the frame rate the
      broadcaster's encoder announced.
    * When the broadcast ends, the playlist stops growing and then disappears. (nginx-rtmp never
      marks the end inside the playlist.)
    * No HLS address or playlist reveals the stream key; nothing is served for a stream that
      never went live.
    * Every live stream has a ladder: the source and at least two lower renditions, listed in a
      multivariant playlist whose bit rates, codecs, sizes and frame rates are what the segments
      measure, and whose renditions line up so that a player can switch between them.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: A live stream is valid HLS while it is watched

    @smoke @severity:critical
    Scenario: Ben watches Ada's stream and everything he downloads is valid
      Given Ada has gone live
      When Ben watches Ada's stream for 4 seconds
      Then everything Ben downloaded was a valid live HLS stream
      And nothing Ben downloaded reveals Ada's stream key

    Scenario: Ada's stream can be watched soon after she goes live
      When Ada goes live
      Then Ada's stream can be watched within 5 seconds

    Scenario: What Ben downloads is what Ada published
      Given Ada has gone live
      When Ben watches Ada's stream for 3 seconds
      Then what Ben downloaded decodes at the frame rate Ada published, with sound

  Rule: Only a live stream has a playlist

    @slow
    Scenario: When the broadcast ends, the playlist stops and then disappears
      Given Ada has broadcast 3 seconds of video
      When Ada ends the broadcast
      Then Ada's playlist stops growing and then disappears

    Scenario: A stream that never went live has no playlist
      Then Ada's stream has no video to watch

    @security
    Scenario: A refused broadcaster never produces a playlist
      When Ada tries to go live with a wrong key
      Then Ada's stream has no video to watch

  Rule: It plays in a real browser

    @browser
    Scenario: Ben plays Ada's stream in a browser
      Given Ada has gone live
      And Ada's stream can be watched within 5 seconds
      When Ben plays Ada's stream in a browser for 5 seconds
      Then Ben sees the video play

  Rule: Every viewer gets a rendition of the ladder

    Scenario: Every rendition of Ada's stream is valid, honest and lined up
      Given Ada has gone live
      When Ben watches every rendition of Ada's stream for 3 seconds
      Then every rendition Ben downloaded was valid live HLS, as the ladder declares
      And the bit rates Ada's ladder declares are those its segments measure
      And the renditions of Ada's ladder line up, so that a player can switch

    @browser @slow
    Scenario: Ben keeps watching Ada's stream when his connection slows down
      Given Ada has gone live
      And Ben is playing Ada's ladder in a browser
      When Ben's network slows to 200 kbit/s
      Then Ben's browser settles on a lower rendition and plays on for 4 seconds
