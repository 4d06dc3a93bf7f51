"""The local cloud: AWS emulated on 127.0.0.1 so both workflows run offline, unchanged.

moto (S3, DynamoDB, Step Functions, EventBridge, SQS, CloudWatch and its logs) with the fixes
where it differs from AWS, the durable execution plane, Lambda functions as worker processes,
the event router, a stand-in for the Discogs API and the offline recognizer. Imports
``handlers``, ``stack`` (the ASL and timeouts it deploys) and ``albumreg.client``; never the
CLI, the tools or the dashboard.
"""
