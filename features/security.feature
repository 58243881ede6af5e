@security @epic:security @owner:streaming-team @contract:ingest
Feature: Security
  Nobody gets in where they do not belong: only the ingest may tell the platform a broadcast
  started or ended, the stream key stays a secret between the platform and its broadcaster, and
  hostile input is answered as a client's mistake.

  SPECIFICATION:
    * The ingest's calls (publish, end, reports) carry a token only the ingest holds; a call
      without it is refused and changes nothing: no status change, no event.
    * The stream key appears in no public address, playlist, event or log line of any server.
    * Hostile input to the API is answered with a 4xx JSON error, never a server error.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: Only the ingest can end a broadcast

    Scenario: A forged end of Ada's broadcast changes nothing
      Given Ada has gone live
      When someone forges the ingest's notice that Ada stopped
      Then the forger is refused
      And Ada's stream is still live

  Rule: The stream key is a secret

    @embedded
    Scenario: No server writes Ada's stream key to its logs
      Given Ada has broadcast 2 seconds of video
      When Ada ends the broadcast
      Then no server's log holds Ada's stream key
