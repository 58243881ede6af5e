@fault @epic:faults @owner:streaming-team @contract:faults
Feature: Faults
  When a server under the platform fails mid-broadcast, the platform carries on where it can,
  says it is unavailable where it cannot, and loses nothing. (These scenarios stop and start the
  embedded stack's servers; against another target they are skipped.)

  SPECIFICATION:
    * The event broker restarts, even without its topics: every event, made before, during and
      after, is published once, in order, within 10 seconds of its return, and reaches the
      analytics; meanwhile the platform reports the broker failing and keeps serving viewers.
    * The viewer counts store (Redis) is down: changes are answered as unavailable and change
      nothing. It comes back empty: counts, peaks and live streams are rebuilt within 2 seconds.
    * The database is down: the platform answers that it is unavailable, loses nothing that was
      done before, and recovers by itself as soon as it is back. A broadcaster is never dropped
      for the outage, however long: the ingest's reports the database could not record are not
      held against the stream (its publisher may otherwise go unreported for 6 s).
    * The streaming service restarts: live streams keep their state, counts and peaks; pages
      reconnect and hear events again. While it is down, viewers still get the video.
    * The service was down when a broadcaster stopped: the stream is ended within 10 seconds of
      the service's return, or interrupted if it has a reconnect window (and its key brings it
      back); an interrupted stream is ended at most 2 seconds after its window, counted from
      the ingest's last report of its publisher.
    * The ingest restarts under a broadcaster: the stream ends within 10 seconds, and its key is
      refused afterwards (an ended stream is final; a new broadcast needs a new stream). With a
      reconnect window, it is interrupted within 10 seconds instead, and the key brings it back.
    * The analytics store is down for a while: the analytics catch up once it is back, each event
      once.

  Background:
    Given Ada has created a stream called "Morning run"
    And Ada has gone live

  Rule: No event is lost when the event broker restarts

    Scenario: Events made while the broker is down are published, in order, once it is back
      Given Ben has joined Ada's stream
      And the event broker is down
      When Cleo joins Ada's stream
      And Ben leaves Ada's stream
      And the event broker comes back
      Then the platform has published, in order, for Ada's stream:
        | event          | viewers | peak |
        | stream.started |         |      |
        | viewer.joined  | 1       |      |
        | viewer.joined  | 2       |      |
        | viewer.left    | 1       |      |
      And the analytics record Ada's stream as:
        | starts | ends | joins | leaves | peak |
        | 1      | 0    | 2     | 1      | 0    |

    Scenario: The platform reports the broker down and keeps serving viewers
      Given the platform's metrics have been read
      And the event broker is down
      When Ben joins Ada's stream
      Then the platform reports the event broker as failing
      And the metrics count failed rounds of event publishing
      And Ada's stream has 1 viewer and a peak of 1 everywhere

  Rule: Redis is a copy: while it is down nothing changes, and it is rebuilt when it is back

    Scenario: A join while Redis is down is refused
      Given Ben has joined Ada's stream
      And the viewer counts store is down
      When Cleo tries to join Ada's stream
      Then Cleo is told the platform is unavailable
      And the platform reports the viewer counts store as failing

    Scenario: A join refused while Redis was down has changed nothing once it is back
      Given Ben has joined Ada's stream
      And the viewer counts store is down
      And the platform's metrics have been read
      When Cleo tries to join Ada's stream
      And the viewer counts store comes back
      Then Ada's stream has 1 viewer and a peak of 1 everywhere
      And the metrics have changed by:
        | metric       | change |
        | viewer joins | 0      |
      And the platform has published, in order, for Ada's stream:
        | event          | viewers | peak |
        | stream.started |         |      |
        | viewer.joined  | 1       |      |

    Scenario: Counts and peaks are rebuilt when Redis comes back empty
      Given Ben has joined Ada's stream
      And Cleo has joined Ada's stream
      And Cleo has left Ada's stream
      And Dan has created a stream called "Quiet hour"
      And Dan has gone live
      When the viewer counts store restarts
      Then Ada's stream has 1 viewer and a peak of 2 everywhere
      And Dan's stream has 0 viewers and a peak of 0 everywhere

  Rule: While the database is down the platform says so, and loses nothing

    Scenario Outline: While the database is down, Ben cannot <act> Ada's stream
      Given the database is down
      When Ben tries to <act> Ada's stream
      Then Ben is told the platform is unavailable

      Examples:
        | act     |
        | look at |
        | join    |
        | leave   |

    Scenario: Nobody can create a stream while the database is down
      Given the database is down
      When Ben tries to create a stream
      Then Ben is told the platform is unavailable

    Scenario: A broadcast outlives a database outage longer than the platform's own timers
      Given the database has been down for 8 seconds
      When the database comes back
      Then Ada's stream stays live for 8 seconds

    Scenario: Nothing is lost when the database restarts, and the platform recovers
      Given Ben has joined Ada's stream
      When the database restarts
      And Cleo joins Ada's stream
      Then Ada's stream has 2 viewers and a peak of 2 everywhere
      And Ada's stream is still live

  Rule: Live streams outlive a restart of the service

    Scenario: Counts, peaks and pages carry on after the service restarts
      Given Ben is watching Ada's stream page
      And Cleo has joined Ada's stream
      When the streaming service restarts
      And Ben's page reconnects
      And Dan joins Ada's stream
      Then Ada's stream has 2 viewers and a peak of 2 everywhere

    Scenario: A broadcast outlives the service being down longer than the ingest's report interval
      Given the streaming service has been down for 5 seconds
      When the streaming service comes back
      Then Ada's broadcast carries on
      And Ada's stream stays live for 7 seconds

    Scenario: Viewers keep getting the video while the service is down
      Given Ada's stream can be watched within 5 seconds
      And the streaming service is down
      Then Ben still gets new segments of Ada's stream

    Scenario: An end the service missed is caught once it is back
      Given the streaming service is down
      When Ada ends the broadcast
      And the streaming service comes back
      Then Ada's stream is ended by the platform within 10 seconds

    Scenario: A drop the service missed interrupts a stream with a reconnect window, and the same key resumes it
      Given Cleo has created a stream with a reconnect window of 60 seconds
      And Cleo has gone live
      And the streaming service is down
      When Cleo's connection drops
      And the streaming service comes back
      Then Cleo's stream is interrupted everywhere within 10 seconds
      When Cleo goes live again with the same key
      Then Cleo's stream is live everywhere

  Rule: A restart of the ingest ends the broadcast, unless its stream has a reconnect window

    Scenario: When the ingest restarts under a stream with a reconnect window, the broadcaster comes back
      Given Cleo has created a stream with a reconnect window of 60 seconds
      And Cleo has gone live
      When the ingest restarts
      Then Cleo's stream is interrupted everywhere within 10 seconds
      When Cleo goes live again with the same key
      Then Cleo's stream is live everywhere

    Scenario: When the ingest restarts, the stream ends and its key no longer works
      When the ingest restarts
      And Ada tries to go live again with the same key
      Then Ada's stream is ended by the platform within 10 seconds
      And Ada is refused

  Rule: The analytics catch up after an outage

    Scenario: The analytics record what happened while their store was down
      Given the analytics store is down
      When Ben joins Ada's stream
      And Ada ends the broadcast
      And the analytics store comes back
      Then the analytics record Ada's stream as:
        | starts | ends | joins | leaves | peak |
        | 1      | 1    | 1     | 0      | 1    |
