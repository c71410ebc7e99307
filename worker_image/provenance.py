"""Content Credentials: every MP4 carries a signed C2PA manifest saying an AI model made it.

The manifest holds one ``c2pa.created`` action with the IPTC digital source type for trained
algorithmic media, the model's name as the software agent and the creation time, and nothing about
the user (no prompt, no ids). It is signed with ``c2pa-python`` (the C2PA project's own library)
using a certificate chain and private key from the worker's settings: locally a test CA and leaf
made by ``make_test_credentials``, in production a secret.
"""

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import c2pa

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATOR = "CineWeave"
MP4 = "video/mp4"


class ProvenanceFailed(RuntimeError):
    """The manifest could not be made or signed (a bad key or certificate is a deployment fault)."""


@dataclass(frozen=True)
class SigningCredentials:
    """A PEM certificate chain (leaf first, then intermediates; not the root) and its PEM private key."""

    cert_chain_pem: bytes
    private_key_pem: bytes
    timestamp_url: str | None = None  # an RFC 3161 time-stamp authority; None locally (no network)


def credentials_from(cert_chain_pem: str, private_key_pem: str, timestamp_url: str | None, test_ca_dir: Path | None
                     ) -> SigningCredentials:
    """The configured certificate and key; without them, the local test CA's leaf in ``test_ca_dir``
    (None: test credentials are not allowed, so a missing certificate is a deployment fault)."""
    if cert_chain_pem and private_key_pem:
        return SigningCredentials(cert_chain_pem.encode(), private_key_pem.encode(), timestamp_url)
    if test_ca_dir is None:
        raise ProvenanceFailed("no C2PA signing certificate is configured (C2PA_CERT_CHAIN_PEM, C2PA_PRIVATE_KEY_PEM)")
    return make_test_credentials(test_ca_dir)[0]


def manifest(model: str, created_at: datetime) -> dict:
    """The manifest definition: AI-made by ``model`` at ``created_at``; no user data."""
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": "1"}],
        "title": "CineWeave video",
        "format": MP4,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": model},
                            "when": created_at.astimezone(UTC).isoformat(timespec="seconds"),
                        }
                    ]
                },
            }
        ],
    }


def sign_video(source: Path, dest: Path, credentials: SigningCredentials, model: str, created_at: datetime) -> None:
    """Write ``dest``: ``source`` with the manifest embedded and signed (ES256)."""
    info = c2pa.C2paSignerInfo(
        alg=b"es256",
        sign_cert=credentials.cert_chain_pem,
        private_key=credentials.private_key_pem,
        ta_url=credentials.timestamp_url.encode() if credentials.timestamp_url else None,
    )
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest(model, created_at)) as builder:
            with open(source, "rb") as src, open(dest, "w+b") as out:
                builder.sign(signer, MP4, src, out)
    except c2pa.C2paError as exc:
        raise ProvenanceFailed(f"could not sign the video's Content Credentials: {exc}") from exc


@dataclass(frozen=True)
class ReadBack:
    """What a reader finds in a signed file."""

    state: str | None  # "Valid", "Trusted" (chains to a trust anchor) or "Invalid"
    digital_source_type: str | None
    software_agent: str | None
    when: str | None
    manifest: dict


def read_video(path: Path, trust_anchors_pem: bytes | None = None) -> ReadBack:
    """Read and validate the manifest of ``path``; with ``trust_anchors_pem`` the signer must chain to one."""
    settings = {"verify": {"verify_trust": trust_anchors_pem is not None}}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem.decode()}
    with c2pa.Context.from_dict(settings) as context, open(path, "rb") as stream:
        with c2pa.Reader(MP4, stream, context=context) as reader:
            active = reader.get_active_manifest() or {}
            state = reader.get_validation_state()
    created = next((a for assertion in active.get("assertions", []) if assertion["label"].startswith("c2pa.actions")
                    for a in assertion["data"]["actions"] if a["action"] == "c2pa.created"), {})
    return ReadBack(state=state, digital_source_type=created.get("digitalSourceType"),
                    software_agent=(created.get("softwareAgent") or {}).get("name"), when=created.get("when"), manifest=active)


def make_test_credentials(folder: Path, now: datetime | None = None) -> tuple[SigningCredentials, bytes]:
    """A throwaway CA and an ES256 leaf for the local stack and tests: ``(credentials, ca_pem)``.

    Written to ``folder`` (``ca.pem``, ``chain.pem``, ``leaf.key``) and reused while they are there.
    The three appear together or not at all: made in a folder beside it, then renamed into place, so
    workers starting at once agree on one CA.
    """
    if not (folder / "leaf.key").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        draft = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        ca_pem, chain_pem, key_pem = _issue(now or datetime.now(UTC))
        for name, data in (("ca.pem", ca_pem), ("chain.pem", chain_pem), ("leaf.key", key_pem)):
            (draft / name).write_bytes(data)
        (draft / "leaf.key").chmod(0o600)
        try:
            draft.rename(folder)
        except OSError:  # another process got there first: use its CA
            shutil.rmtree(draft, ignore_errors=True)
    credentials = SigningCredentials((folder / "chain.pem").read_bytes(), (folder / "leaf.key").read_bytes())
    return credentials, (folder / "ca.pem").read_bytes()


def _issue(now: datetime) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CineWeave local test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    start, end = now - timedelta(days=1), now + timedelta(days=3650)
    ca = (x509.CertificateBuilder().subject_name(name("CineWeave test CA")).issuer_name(name("CineWeave test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
          .not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("CineWeave test signer")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem
