"""A raw HTTP/2 gRPC client (Debian's python3-h2) for what grpcio will not do:
never open its receive window, send a deadline without enforcing it, put
calls of its choosing on one shared connection. It reports what the server
sent: per stream the response headers, the data, the trailers (grpc-status
and grpc-message) or a reset."""
import socket
import struct
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


def grpc_frame(message):
    """A gRPC length-prefixed message (uncompressed)."""
    return b"\x00" + struct.pack(">I", len(message)) + message


class Stream:
    def __init__(self):
        self.headers = None
        self.data = 0
        self.status = None  # grpc-status as int, from the trailers or a trailers-only answer
        self.message = None
        self.reset = None  # the RST_STREAM error code

    @property
    def ended(self):
        return self.status is not None or self.reset is not None


class RawConnection:
    """One HTTP/2 connection to a gRPC server. `window`: the receive window
    each stream starts with (0: the server can send no data at all);
    `read`: whether received data is acknowledged (window updates sent)."""

    def __init__(self, address, window=65535, read=True):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.read = read
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())
        self.streams = {}
        self.closed = False
        # Limits such as the metadata size apply once the server's settings
        # are acknowledged: wait for both directions.
        self._pump_until(lambda: self._settings_done, 30)

    _settings_done = False

    def close(self):
        self.sock.close()

    def call(self, method, message, metadata=(), timeout=None):
        """Starts a call; returns its stream id. `timeout` (seconds) is sent
        as grpc-timeout; the client itself never enforces it."""
        stream_id = self.h2.get_next_available_stream_id()
        headers = [(":method", "POST"), (":scheme", "http"), (":path", method),
                   (":authority", "localhost"), ("content-type", "application/grpc"),
                   ("te", "trailers")]
        if timeout is not None:
            headers.append(("grpc-timeout", f"{int(timeout * 1000)}m"))
        headers += list(metadata)
        self.h2.send_headers(stream_id, headers)
        self.h2.send_data(stream_id, grpc_frame(message), end_stream=True)
        self.sock.sendall(self.h2.data_to_send())
        self.streams[stream_id] = Stream()
        return stream_id

    def open_call(self, method):
        """Starts a call whose request message never ends (see send_partial)."""
        stream_id = self.h2.get_next_available_stream_id()
        self.h2.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":path", method),
            (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers")])
        self.sock.sendall(self.h2.data_to_send())
        self.streams[stream_id] = Stream()
        return stream_id

    def send_partial(self, stream_id, message_size, send_bytes, seconds):
        """Sends the first `send_bytes` of a `message_size`-byte request
        message, as fast as the server's flow-control windows let it (for up
        to `seconds`); returns the bytes sent."""
        data = grpc_frame(b"")[:1] + struct.pack(">I", message_size) + bytes(send_bytes)
        sent = 0
        deadline = time.monotonic() + seconds
        while sent < len(data) and time.monotonic() < deadline and not self.closed:
            if self.streams[stream_id].ended:
                break
            window = min(self.h2.local_flow_control_window(stream_id),
                         self.h2.max_outbound_frame_size, len(data) - sent)
            if window > 0:
                self.h2.send_data(stream_id, data[sent:sent + window])
                self._send_pending()
                sent += window
            else:
                self.pump(0.05)
        return sent

    def pump(self, seconds):
        """Handles what the server sends for `seconds`."""
        self._pump_until(lambda: False, seconds)

    def wait_answering(self, stream_ids, seconds):
        """Handles frames until every stream in `stream_ids` has its response
        headers (the server has admitted the call and written to it; HEADERS
        pass even a closed flow-control window), the connection closed, or
        `seconds` passed; returns whether all have them."""
        return self._pump_until(
            lambda: all(self.streams[s].headers is not None for s in stream_ids), seconds)

    def wait_ended(self, stream_ids, seconds):
        """Handles frames until every stream in `stream_ids` has ended, the
        connection closed, or `seconds` passed; returns whether all ended."""
        return self._pump_until(
            lambda: all(self.streams[s].ended for s in stream_ids), seconds)

    def _pump_until(self, done, seconds):
        deadline = time.monotonic() + seconds
        while not done() and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                break
            self._pending += data
            for frame in self._whole_frames():
                try:
                    events = self.h2.receive_data(frame)
                except h2.exceptions.ProtocolError:
                    # Frames after the server's GOAWAY (gRPC pings once
                    # more), or a RST_STREAM after the trailers that ended
                    # the stream. Frame by frame, what came before counts.
                    self.closed = True
                    break
                for event in events:
                    self._handle(event)
            if self.closed:
                break
            self._send_pending()
        return done()

    def _send_pending(self):
        """Sends what h2 has queued; a server that has closed the connection
        (above a limit, or after its GOAWAY) ends it for this client too."""
        try:
            self.sock.sendall(self.h2.data_to_send())
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    _pending = b""

    def _whole_frames(self):
        """The complete HTTP/2 frames received so far, one by one (9-byte
        header: 24-bit payload length first); a partial one waits."""
        frames = []
        while len(self._pending) >= 9:
            size = 9 + int.from_bytes(self._pending[:3], "big")
            if len(self._pending) < size:
                break
            frames.append(self._pending[:size])
            self._pending = self._pending[size:]
        return frames

    def _handle(self, event):
        stream = self.streams.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self._remote_settings = True
        elif isinstance(event, h2.events.SettingsAcknowledged):
            self._local_acked = True
        elif isinstance(event, h2.events.ResponseReceived):
            stream.headers = dict(event.headers)
            self._status_from(stream, stream.headers)
        elif isinstance(event, h2.events.TrailersReceived):
            self._status_from(stream, dict(event.headers))
        elif isinstance(event, h2.events.DataReceived):
            stream.data += len(event.data)
            if self.read:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            if stream is not None:
                stream.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closed = True
        self._settings_done = (getattr(self, "_remote_settings", False)
                               and getattr(self, "_local_acked", False))

    @staticmethod
    def _status_from(stream, headers):
        if "grpc-status" in headers:
            stream.status = int(headers["grpc-status"])
            stream.message = urllib.parse.unquote(headers.get("grpc-message", ""))
