@epic:metrics @owner:data-team @contract:prometheus @contract:kafka @contract:clickhouse
Feature: Metrics collection
  The Prometheus metrics, the Kafka event stream and the ClickHouse analytics tell the truth
  about what happened on the platform.

  SPECIFICATION:
    * Prometheus: the active streams and viewers gauges follow the platform; the counters of
      starts, ends, joins, leaves and webhook calls move by exactly what happened; every stream's
      duration is observed once; no metric carries a stream or user id.
    * Kafka: every start, end, join and leave is published once, in order per stream, valid by
      the contract, keyed by the stream, and never with the stream key inside.
    * ClickHouse: the analytics agree with what happened, also after their consumer restarts.

  Background:
    Given Ada has created a stream called "Morning run"

  Rule: Prometheus counts exactly what happened

    @smoke
    Scenario: Going live moves the gauge up and counts a start
      Given the platform's metrics have been read
      When Ada goes live
      Then the metrics have changed by:
        | metric             | change |
        | active streams     | 1      |
        | streams started    | 1      |
        | streams ended      | 0      |
        | accepted publishes | 1      |

    Scenario: Ending moves the gauge back and counts an end
      Given Ada has gone live
      And the platform's metrics have been read
      When Ada ends the broadcast
      Then the metrics have changed by:
        | metric          | change |
        | active streams  | -1     |
        | streams started | 0      |
        | streams ended   | 1      |
        | publish ends    | 1      |

    Scenario: An interruption and a resume are counted, and the viewers stay counted
      Given Cleo has created a stream with a reconnect window of 10 seconds
      And Cleo has gone live
      And Ben has joined Cleo's stream
      And the platform's metrics have been read
      When Cleo's connection drops
      Then the metrics have changed by:
        | metric                | change |
        | active streams        | -1     |
        | interrupted streams   | 1      |
        | streams interrupted   | 1      |
        | publish interruptions | 1      |
        | streams ended         | 0      |
        | viewers               | 0      |
      When Cleo goes live again with the same key
      Then the metrics have changed by:
        | metric                | change |
        | active streams        | 0      |
        | interrupted streams   | 0      |
        | streams resumed       | 1      |
        | streams started       | 0      |
        | viewers               | 0      |

    Scenario: Open stream pages are counted
      Given the platform's metrics have been read
      When Ben opens Ada's stream page
      And Cleo opens Ada's stream page
      And Cleo closes Ada's stream page
      Then the metrics have changed by:
        | metric            | change |
        | open stream pages | 1      |

    Scenario: Every event a room sends is timed
      Given Ben is watching Ada's stream page
      And the platform's metrics have been read
      When Ada goes live
      Then the metrics have changed by:
        | metric                | change |
        | room deliveries timed | 1      |

    Scenario: Joins and leaves move the viewer metrics
      Given Ada has gone live
      And the platform's metrics have been read
      When Ben joins Ada's stream
      And Cleo joins Ada's stream
      And Ben leaves Ada's stream
      And Dan, who never joined, leaves Ada's stream
      Then the metrics have changed by:
        | metric        | change |
        | viewers       | 1      |
        | viewer joins  | 2      |
        | viewer leaves | 1      |

    @security
    Scenario: A refused publish is counted as refused
      Given the platform's metrics have been read
      When Ada tries to go live with a wrong key
      Then the metrics have changed by:
        | metric             | change |
        | refused publishes  | 1      |
        | accepted publishes | 0      |
        | active streams     | 0      |

    Scenario: A stream's duration is observed once
      Given Ada's stream has waited 2 seconds to go live
      And Ada has broadcast 2 seconds of video
      And the platform's metrics have been read
      When Ada ends the broadcast
      Then the stream durations have gained one observation of about as long as Ada was live

    Scenario: The metrics stay well formed and name no stream
      Given Ben has created a stream called "Evening swim"
      And the platform's metrics have been read
      When Ada goes live
      And Ben goes live
      Then the metrics are well formed, with no stream or user in any label
      And no counter has gone back

  Rule: Kafka carries exactly the events that happened

    @severity:critical
    Scenario: Every change of Ada's stream is published once, in order
      Given Ada has gone live
      When Ben joins Ada's stream
      And Cleo joins Ada's stream
      And Ben leaves Ada's stream
      And Ada ends the broadcast
      Then the platform has published, in order, for Ada's stream:
        | event          | viewers | peak |
        | stream.started |         |      |
        | viewer.joined  | 1       |      |
        | viewer.joined  | 2       |      |
        | viewer.left    | 1       |      |
        | stream.ended   |         | 2    |

  Rule: The analytics agree with what happened

    Scenario: The analytics record Ada's broadcast
      Given Ada has gone live
      And Ben has joined Ada's stream
      And Cleo has joined Ada's stream
      When Ada ends the broadcast
      Then the analytics record Ada's stream as:
        | starts | ends | joins | leaves | peak |
        | 1      | 1    | 2     | 0      | 2    |

    @fault
    Scenario: The analytics catch up after their consumer restarts
      Given Ada has gone live
      And the analytics consumer is down
      When Ben joins Ada's stream
      And Ada ends the broadcast
      And the analytics consumer comes back
      Then the analytics record Ada's stream as:
        | starts | ends | joins | leaves | peak |
        | 1      | 1    | 1     | 0      | 1    |
