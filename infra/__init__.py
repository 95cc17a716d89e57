"""Infrastructure shared by the three services (issuer, wallet, verifier).

What every web service needs and the pure core must not do: the one strict
outbound HTTP fetcher, the store for short-lived shared state (replay records,
OpenID4VP transactions, rate-limit counters; SQLite or Redis), and production
serving. Dependencies point one way: ``wallet``, ``verifier``, ``issuer`` →
``infra`` → ``credentials`` (errors only); ``infra`` imports no service.
"""
