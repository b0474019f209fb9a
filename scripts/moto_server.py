"""moto's server on 127.0.0.1, with DynamoDB requests applied one at a time.

moto applies TransactWriteItems by snapshotting the tables and restoring the
snapshot when a condition fails; two requests in flight at once can then
erase each other's writes (a cancelled transaction rolls back a concurrent
successful one). DynamoDB isolates transactions, so the suite serializes
DynamoDB requests here to get DynamoDB's guarantee back. SQS (long polls)
and EventBridge stay concurrent.

The same rollback also swaps a table's stream for the snapshot's copy, so a
reader of the stream (the OMS's outbox relay) stops seeing new records
after any cancelled transaction. Here a cancelled transaction keeps the
table's own stream and takes back only the records it added, as DynamoDB
(which writes nothing for a cancelled transaction) would.

Usage: python moto_server.py PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.dynamodb.models import DynamoDBBackend
from werkzeug.serving import run_simple

_transact_write_items = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    streams = {
        name: (table.stream_shard, len(table.stream_shard.items))
        for name, table in self.tables.items()
        if table.stream_shard is not None
    }
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for name, (shard, length) in streams.items():
            del shard.items[length:]
            if name in self.tables:
                self.tables[name].stream_shard = shard
        raise


DynamoDBBackend.transact_write_items = transact_write_items

dynamodb_lock = threading.Lock()
app = DomainDispatcherApplication(create_backend_app)


def serialized_dynamodb(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb_lock:
            # Drain the response inside the lock: the work may be lazy.
            return list(app(environ, start_response))
    return app(environ, start_response)


def main():
    port = int(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        "127.0.0.1",
        port,
        serialized_dynamodb,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
