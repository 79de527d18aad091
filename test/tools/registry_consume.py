#!/usr/bin/env python3
"""Independent decoder of Schema Registry wire-format records, for tests.

Reads a topic from the beginning with confluent-kafka (librdkafka) and decodes every value with
confluent-kafka's AvroDeserializer, which fetches the writer schema from the registry by the id
in the 5-byte header (magic byte 0 + big-endian int32 id). Nothing here is shared with the
gateway: it is the reference a Confluent consumer would be.

No consumer group is joined and no offset is committed: partitions are assigned directly from
the earliest offset. It reads until it has at least --count records AND every partition is at
its end (so extra records show up), or until --timeout-s.

Output: one JSON line per record, in the order received (per partition in offset order):
  {"partition": 0, "offset": 0, "key": "<utf-8>"|null, "schemaId": 7|null, "value": ...}
Value mapping (JSON-safe, exact):
  int/long       JSON integer, exact at any size (never through a double)
  float/double   JSON number; NaN/Infinity/-Infinity as those strings
  bytes/fixed    base64 string (standard alphabet, padded)
  timestamp-millis/-micros, local-timestamp-*   epoch milliseconds as an integer when the value
                 is a whole millisecond, else an exact decimal string ("1700000000000.123")
                 (local-* are read as UTC)
  date           "YYYY-MM-DD"; time-millis/-micros: "HH:MM:SS[.ffffff]"
  decimal        exact decimal string; uuid: its string form
  enum/string    string; record/map: object; array: list; union: the branch's value; null: null
A null value (tombstone) prints "value": null, "schemaId": null.

Exit codes: 0 ok; 2 a record could not be decoded (not wire format, unknown id, bad body, key not
UTF-8), with what was printed so far; 3 fewer than --count records before --timeout-s; 1 usage or
connection errors. Messages go to stderr.
"""
import argparse
import base64
import datetime
import decimal
import json
import math
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port[,host:port]")
    p.add_argument("--topic", required=True)
    p.add_argument("--registry-url", required=True, help="e.g. http://127.0.0.1:8080/apis/ccompat/v7")
    p.add_argument("--count", type=int, required=True, help="records to wait for (then read to the end)")
    p.add_argument("--timeout-s", type=float, default=30.0)
    p.add_argument("--basic-auth", help="registry Basic auth as user:password")
    p.add_argument("--bearer", help="registry Bearer token (static)")
    p.add_argument("--ca", help="PEM CA file that signed the registry's certificate")
    p.add_argument("--cert", help="PEM client certificate for the registry (mTLS)")
    p.add_argument("--key", help="PEM client key for the registry (mTLS)")
    p.add_argument("--kafka", action="append", default=[], metavar="KEY=VALUE", help="extra librdkafka consumer property (repeatable)")
    return p.parse_args()


def registry_client(args):
    conf = {"url": args.registry_url}
    if args.basic_auth:
        conf["basic.auth.user.info"] = args.basic_auth
    if args.bearer:
        conf["bearer.auth.credentials.source"] = "STATIC_TOKEN"
        conf["bearer.auth.token"] = args.bearer
        conf["bearer.auth.logical.cluster"] = "test"  # required by the client; sent as a header
    if args.ca:
        conf["ssl.ca.location"] = args.ca
    if args.cert:
        conf["ssl.certificate.location"] = args.cert
    if args.key:
        conf["ssl.key.location"] = args.key
    return SchemaRegistryClient(conf)


def epoch_millis(dt):
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    delta = dt - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros % 1000 == 0:
        return micros // 1000
    sign = "-" if micros < 0 else ""
    return f"{sign}{abs(micros) // 1000}.{abs(micros) % 1000:03d}"


def json_safe(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, datetime.datetime):
        return epoch_millis(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    raise TypeError(f"no JSON mapping for {type(v).__name__}")


def fail(code, message):
    sys.stdout.flush()
    print(f"registry_consume: {message}", file=sys.stderr)
    sys.exit(code)


# The last error librdkafka reported (its own log lines are silenced: it retries connections
# many times a second and would flood the test's output).
last_kafka_error = {"text": "none"}


def on_kafka_error(err):
    last_kafka_error["text"] = str(err)


def partitions_of(consumer, topic, deadline):
    while True:
        why = "not in metadata"
        try:
            meta = consumer.list_topics(topic, timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            t = meta.topics.get(topic)
            if t is not None and t.error is None and len(t.partitions) > 0:
                return sorted(t.partitions)
            if t is not None and t.error is not None:
                why = str(t.error)
        except KafkaException as e:
            why = str(e)
        if time.monotonic() >= deadline:
            fail(3, f"no partitions of topic {topic!r} before the timeout ({why}; last Kafka error: {last_kafka_error['text']})")
        time.sleep(0.2)


def main():
    args = parse_args()
    deadline = time.monotonic() + args.timeout_s
    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": f"registry-consume-{uuid.uuid4()}",  # required by librdkafka; never joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "log_level": 0,
        "error_cb": on_kafka_error,
    }
    for kv in args.kafka:
        k, sep, val = kv.partition("=")
        if not sep:
            fail(1, f"--kafka expects KEY=VALUE, got {kv!r}")
        conf[k] = val
    deserializer = AvroDeserializer(registry_client(args))
    consumer = Consumer(conf)
    try:
        parts = partitions_of(consumer, args.topic, deadline)
        consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in parts])
        at_end = set()
        seen = 0
        while True:
            if seen >= args.count and len(at_end) == len(parts):
                return 0
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                fail(3, f"{seen}/{args.count} records from {args.topic!r} within {args.timeout_s} s (last Kafka error: {last_kafka_error['text']})")
            msg = consumer.poll(min(remaining, 0.5))
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                if err.fatal() or not err.retriable():
                    fail(1, f"kafka: {err}")
                continue
            at_end.discard(msg.partition())
            seen += 1
            print(json.dumps(decode(msg, deserializer), separators=(",", ":")), flush=True)
    finally:
        consumer.close()


def decode(msg, deserializer):
    where = f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"
    raw_key = msg.key()
    try:
        key = None if raw_key is None else raw_key.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(2, f"{where}: key is not UTF-8 ({e})")
    data = msg.value()
    if data is None:
        return {"partition": msg.partition(), "offset": msg.offset(), "key": key, "schemaId": None, "value": None}
    if len(data) < 5 or data[0] != 0:
        fail(2, f"{where}: not Schema Registry wire format (magic byte 0 + 4-byte id); first bytes {data[:8].hex()}")
    schema_id = int.from_bytes(data[1:5], "big", signed=True)
    try:
        value = deserializer(data, SerializationContext(msg.topic(), MessageField.VALUE))
        value = json_safe(value)
    except Exception as e:  # the deserializer raises several types; all mean "cannot decode"
        fail(2, f"{where}: decode with schema id {schema_id} failed: {type(e).__name__}: {e}")
    return {"partition": msg.partition(), "offset": msg.offset(), "key": key, "schemaId": schema_id, "value": value}


if __name__ == "__main__":
    sys.exit(main())
