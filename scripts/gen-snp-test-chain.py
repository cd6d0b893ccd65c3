#!/usr/bin/env python3
"""One-off generator (not run by CI) of src/attest/snp/test-chain.ts: a TEST ARK -> ASK ->
two VCEKs whose AMD extensions carry the TCB of ../shared's Genoa report (bl10/tee0/snp23/
ucode84), one for the report's own CHIP_ID and one for another chip. Keys are public: the
chain is trusted only by tests that pass it as `roots`. Run from the repo root."""
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

report = open("/work/shared/vectors/amd-sev-snp/snp-report.bin", "rb").read()
chip = report[0x1A0:0x1A0 + 64]
S, E = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2125, 1, 1, tzinfo=datetime.timezone.utc)
name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cloister TEST (NOT AMD)")])
def cert(subject, issuer, ikey, pub, serial, ca, exts=()):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub).serial_number(serial)
         .not_valid_before(S).not_valid_after(E).add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    for oid, der in exts: b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), der), critical=False)
    return b.sign(ikey, hashes.SHA384())
integer = lambda v: bytes([0x02, 1, v]) if v < 0x80 else bytes([0x02, 2, 0, v])
octets = lambda b: bytes([0x04, 0x40]) + b
ark_k, ask_k, vcek_k = (ec.generate_private_key(ec.SECP384R1()) for _ in range(3))
ark = cert(name("TEST ARK-Genoa"), name("TEST ARK-Genoa"), ark_k, ark_k.public_key(), 1, True)
ask = cert(name("TEST SEV-Genoa"), ark.subject, ark_k, ask_k.public_key(), 2, True)
tcb = [("1.3.6.1.4.1.3704.1.3.1", integer(10)), ("1.3.6.1.4.1.3704.1.3.2", integer(0)), ("1.3.6.1.4.1.3704.1.3.3", integer(23)), ("1.3.6.1.4.1.3704.1.3.8", integer(84))]
own = cert(name("TEST SEV-VCEK"), ask.subject, ask_k, vcek_k.public_key(), 3, False, tcb + [("1.3.6.1.4.1.3704.1.4", octets(chip))])
other = cert(name("TEST SEV-VCEK"), ask.subject, ask_k, vcek_k.public_key(), 4, False, tcb + [("1.3.6.1.4.1.3704.1.4", octets(bytes([0x11]) * 64))])
pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()
print("/**\n * TEST-ONLY SEV-SNP chain (scripts/gen-snp-test-chain.py): ARK -> ASK -> VCEK with the TCB of\n * ../shared's Genoa report, for its own CHIP_ID and for another chip. The VCEK key is public\n * on purpose; nothing but tests passing it as `roots` trusts this chain.\n */")
for n, v in [("TEST_ARK_PEM", pem(ark)), ("TEST_ASK_PEM", pem(ask)), ("TEST_VCEK_OWN_CHIP_PEM", pem(own)), ("TEST_VCEK_OTHER_CHIP_PEM", pem(other)),
             ("TEST_VCEK_KEY_PEM", vcek_k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())]:
    print(f"export const {n} = `{v}`;")
