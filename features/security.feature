@security @epic:security @owner:streaming-team @contract:ingest
Feature: Security
  Nobody gets in where they do not belong: only the ingest may tell the platform a broadcast
  started or ended, the stream key stays a secret between the platform and its broadcaster, and
  hostile input is answered as a client's mistake.

  SPECIFICATION:
    * The ingest's calls (publish, end, reports) carry a token only the ingest holds; a call
      without it is refused and changes nothing: no status change, no event.
    * The stream key appears in no public address, playlist, event or log line of any server,
      and the ingest's webhook token in no log line.
    * Hostile input to the API is answered with a 4xx JSON error, never a server error.
    * One client cannot lock others out: a connection to the ingest that sends nothing is closed
      within 10 s, and thousands of them leave room for viewers and broadcasters.
    * A client that breaks RTMP is dropped at once, and a broadcaster beside it carries on.
    * Viewers' pages only listen: a page that sends a message over 4 KB (1009), a frame RFC 6455
      does not define (1002), text that is not UTF-8 (1007) or more than 10 messages in a
      second (1008) is closed with that code, and one that does not answer pings within 7.5 s
      is closed; the other viewers are told everything as before.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: Only the ingest can end a broadcast

    Scenario: A forged end of Ada's broadcast changes nothing
      Given Ada has gone live
      When someone forges the ingest's notice that Ada stopped
      Then the forger is refused
      And Ada's stream is still live

  Rule: The stream key is a secret

    Scenario: Nobody but Ada is given her stream key
      Given Ben is watching Ada's stream page
      And Ada has broadcast 2 seconds of video
      When Ben joins Ada's stream
      And Ada ends the broadcast
      Then Ben is told that Ada's stream ended
      And Ada's stream key is in nothing anyone else was given

    @embedded
    Scenario: No server writes Ada's stream key or the ingest's token to its logs
      Given Ada has broadcast 2 seconds of video
      When Ada ends the broadcast
      Then no server's log holds Ada's stream key or the ingest's token

  Rule: One client cannot lock out everyone

    Scenario: Thousands of silent connections leave room for viewers and broadcasters
      Given Ada has gone live
      And Cy has created a stream called "Evening run"
      When an attacker holds 2000 idle connections to the ingest
      Then Ada's stream can be watched within 5 seconds
      And Ada's broadcast carries on
      When Cy goes live
      Then the ingest drops the attacker's idle connections within 15 seconds

  Rule: A client that breaks RTMP is dropped, and only that client

    Scenario Outline: A client that sends <abuse> is dropped while Ada broadcasts
      Given Ada has gone live
      When an attacker sends <abuse> to the ingest
      Then the ingest drops the attacker within <seconds> seconds
      And Ada's broadcast carries on

      Examples:
        | abuse                            | seconds |
        | a handshake of the wrong version | 1       |
        | half a handshake                 | 15      |
        | garbage after the handshake      | 15      |
        | an enormous chunk size           | 15      |
        | an enormous message              | 1       |

  Rule: A page that abuses its room is closed, and only that page

    Scenario Outline: A page that sends <abuse> is closed with code <code>
      Given Ada has gone live
      And Ben is watching Ada's stream page
      When an attacker's page in Ada's room sends <abuse>
      Then the attacker's page is closed with code <code>
      When Cy joins Ada's stream
      Then Ben is told that the viewer count changed to 1

      Examples:
        | abuse                      | code |
        | a message of 1 MB          | 1009 |
        | a frame of an unknown type | 1002 |
        | text that is not UTF-8     | 1007 |
        | 50 messages at once        | 1008 |

    Scenario: A page that never reads is closed
      Given Ada has gone live
      And Ben is watching Ada's stream page
      When an attacker's page in Ada's room never reads
      Then the platform has closed the attacker's page within 10 seconds
      When Cy joins Ada's stream
      Then Ben is told that the viewer count changed to 1
