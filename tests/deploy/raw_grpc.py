"""One gRPC call over a bare HTTP/2 connection (python3-h2), for what grpcio
cannot do: send a grpc-timeout header without enforcing the deadline in the
client too. Only the server can then end the call at its deadline, so a
DEADLINE_EXCEEDED proves that the header reached it."""

import socket
import struct

import h2.config
import h2.connection
import h2.events


class StreamReset(Exception):
    """The peer reset the call's stream (RST_STREAM) instead of ending it."""

    def __init__(self, error_code):
        super().__init__(f"stream reset with HTTP/2 error {error_code}")
        self.error_code = error_code


def unary_stream(address, path, request, grpc_timeout, socket_timeout):
    """Sends `request` (bytes) to `path`; returns (messages, status, message)
    where status is the call's grpc-status as an int; raises StreamReset.
    Every socket read is bounded by `socket_timeout` (socket.timeout ends
    the call)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=socket_timeout) as sock:
        connection = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        connection.initiate_connection()
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", address),
            ("content-type", "application/grpc"), ("te", "trailers"),
            ("grpc-timeout", grpc_timeout)])
        connection.send_data(stream, b"\0" + struct.pack(">I", len(request)) + request,
                             end_stream=True)
        sock.sendall(connection.data_to_send())
        body = b""
        metadata = {}
        while True:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("the connection closed before the call ended")
            for event in connection.receive_data(data):
                if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    metadata.update(dict(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamReset):
                    raise StreamReset(event.error_code)
                elif isinstance(event, h2.events.StreamEnded):
                    return (split_messages(body), int(metadata["grpc-status"]),
                            metadata.get("grpc-message", ""))
            sock.sendall(connection.data_to_send())


def split_messages(body):
    """The messages of a gRPC response body (uncompressed length-prefixed frames)."""
    messages = []
    while body:
        assert body[0] == 0, "compressed message"
        (length,) = struct.unpack(">I", body[1:5])
        messages.append(body[5:5 + length])
        body = body[5 + length:]
    return messages
