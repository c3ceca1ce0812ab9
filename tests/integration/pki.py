"""Certificates and bearer tokens made at test time with openssl, by the
commands the README gives (scripts/make-tls-certs.sh, openssl rand, sha256sum)."""
import json
import os
import subprocess

import grpc

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_CERTS = os.path.join(REPO, "scripts", "make-tls-certs.sh")
SERVER_NAMES = "DNS:localhost,IP:127.0.0.1"

# `openssl ca` sets any validity period (-startdate/-enddate), in the past too.
_CA_CONFIG = """[ca]
default_ca = test_ca
[test_ca]
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/ca-serial
default_md = sha256
policy = any_subject
unique_subject = no
[any_subject]
organizationName = optional
commonName = supplied
"""


def _run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout


class Authority:
    """A CA made by scripts/make-tls-certs.sh with a server certificate for
    127.0.0.1/localhost and a client certificate per name."""

    def __init__(self, directory, *clients):
        self.dir = directory
        _run(MAKE_CERTS, directory, SERVER_NAMES, *clients)

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        with open(self.path(name), "rb") as file:
            return file.read()

    def sign_expired(self, name, subject, extensions):
        """name.pem/name.key valid only on 1 January 2020."""
        issued = self.path("issued")
        os.makedirs(issued, exist_ok=True)
        if not os.path.exists(self.path("ca.cnf")):
            with open(self.path("ca.cnf"), "w") as config:
                config.write(_CA_CONFIG.format(dir=self.dir))
            open(self.path("index.txt"), "w").close()
            with open(self.path("ca-serial"), "w") as serial:
                serial.write("1000\n")
        with open(self.path(f"{name}.ext"), "w") as ext:
            ext.write(extensions + "\n")
        _run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", self.path(f"{name}.key"))
        _run("openssl", "req", "-new", "-key", self.path(f"{name}.key"), "-subj", subject,
             "-out", self.path(f"{name}.csr"))
        _run("openssl", "ca", "-batch", "-config", self.path("ca.cnf"), "-cert", self.path("ca.pem"),
             "-keyfile", self.path("ca.key"), "-in", self.path(f"{name}.csr"),
             "-out", self.path(f"{name}.pem"), "-startdate", "20200101000000Z",
             "-enddate", "20200102000000Z", "-extfile", self.path(f"{name}.ext"), "-notext")


def credentials(trust, client=None, issuer=None):
    """grpc TLS client credentials that trust `trust`'s CA and, with `client`,
    present that client certificate of `issuer` (default: `trust`)."""
    issuer = issuer or trust
    return grpc.ssl_channel_credentials(
        root_certificates=trust.read("ca.pem"),
        private_key=issuer.read(f"{client}.key") if client else None,
        certificate_chain=issuer.read(f"{client}.pem") if client else None)


def new_token():
    """(token, its SHA-256 in hex) as the README makes them."""
    token = _run("openssl", "rand", "-hex", "32").strip()
    digest = _run("bash", "-c", 'printf %s "$0" | sha256sum | cut -d" " -f1', token).strip()
    return token, digest


def write_token_file(path, entries):
    """entries: dicts of the token file format (name, sha256, priorities, ...)."""
    with open(path, "w") as file:
        json.dump({"tokens": entries}, file, indent=2)
