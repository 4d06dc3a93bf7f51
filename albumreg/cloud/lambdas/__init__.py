"""Local Lambda: each function's invocations run in worker processes, as execution environments.

``service`` keeps the pools (cold start, warm reuse, idle retirement, concurrency bounds, crash
and timeout handling), ``worker`` is the code inside one environment, ``logs`` writes what an
environment prints to CloudWatch Logs in Lambda's format, ``durable`` lets the durable plane
invoke through the pools, ``recognition`` carries the benchmark's recognizer knobs into workers.
Part of the local cloud only: never shipped to Lambda, never imports Pulumi.
"""
