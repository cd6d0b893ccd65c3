#!/usr/bin/env python3
"""One-off generator (not run by CI) of the Cloister SIMULATED collateral certificates,
CRLs and OCSP answers in src/attest/simulator/collateral-roots.ts. Every key it uses is
public on purpose (src/attest/simulator/roots.ts). Needs python3-cryptography.
Run: python3 scripts/gen-simulated-collateral.py > /tmp/out.ts"""
import datetime, re, sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

src = open("src/attest/simulator/roots.ts").read()
def const(name):
    return re.search(r"export const %s = `(.*?)`" % name, src, re.S).group(1).encode()
cert = lambda n: x509.load_pem_x509_certificate(const(n))
key = lambda n: serialization.load_pem_private_key(const(n), None)

START = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(2125, 1, 1, tzinfo=datetime.timezone.utc)
root, root_key = cert("SIMULATED_ROOT_CERT_PEM"), key("SIMULATED_ROOT_KEY_PEM")
pck_ca, pck_ca_key = cert("SIMULATED_PCK_CA_CERT_PEM"), key("SIMULATED_PCK_CA_KEY_PEM")
leaf_key = key("SIMULATED_PCK_LEAF_KEY_PEM")
gpu_root, gpu_root_key = cert("SIMULATED_GPU_ROOT_CERT_PEM"), key("SIMULATED_GPU_ROOT_KEY_PEM")
gpu_leaf = cert("SIMULATED_GPU_LEAF_CERT_PEM")

def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cloister")])

# --- DER helpers for Intel's SGX extension (PCK Certificate profile §3.5) ---
def tlv(tag, body):
    n = len(body)
    if n < 0x80: l = bytes([n])
    elif n < 0x100: l = bytes([0x81, n])
    else: l = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + l + body
def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7f]; p >>= 7
        while p: enc.insert(0, 0x80 | (p & 0x7f)); p >>= 7
        out += bytes(enc)
    return tlv(0x06, out)
def integer(v): return tlv(0x02, bytes([v]) if v < 0x80 else bytes([0, v]))
seq = lambda *xs: tlv(0x30, b"".join(xs))
octets = lambda b: tlv(0x04, b)
SGX = "1.2.840.113741.1.13.1"
SIM_SGX_COMPONENTS = [2] * 16
SIM_PCESVN = 13
FMSPC = bytes.fromhex("00C1015E0000")  # arbitrary, 6 bytes
tcb = seq(*[seq(oid(f"{SGX}.2.{i+1}"), integer(v)) for i, v in enumerate(SIM_SGX_COMPONENTS)],
          seq(oid(f"{SGX}.2.17"), integer(SIM_PCESVN)), seq(oid(f"{SGX}.2.18"), octets(bytes(SIM_SGX_COMPONENTS))))
sgx_ext = seq(seq(oid(f"{SGX}.1"), octets(b"SIMULATED-PPID!!")), seq(oid(f"{SGX}.2"), tcb),
              seq(oid(f"{SGX}.3"), octets(bytes([0, 0]))), seq(oid(f"{SGX}.4"), octets(FMSPC)),
              seq(oid(f"{SGX}.5"), tlv(0x0a, b"\x00")))

def build(subject, issuer, issuer_key, pub, serial, ca, eku=None, extra=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject if hasattr(issuer, "subject") else issuer)
         .public_key(pub).serial_number(serial).not_valid_before(START).not_valid_after(END)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False), critical=True))
    if eku: b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if extra: b = b.add_extension(extra, critical=False)
    h = hashes.SHA384() if isinstance(issuer_key.curve, ec.SECP384R1) else hashes.SHA256()
    return b.sign(issuer_key, h)

pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()
kpem = lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

pck_leaf = build(name("Cloister SIMULATED PCK Certificate (NOT SECURE)"), pck_ca, pck_ca_key, leaf_key.public_key(), 0x5104, False,
                 extra=x509.UnrecognizedExtension(x509.ObjectIdentifier(SGX), sgx_ext))
tcb_key = ec.generate_private_key(ec.SECP256R1())
tcb_cert = build(name("Cloister SIMULATED TCB Signing (NOT SECURE)"), root, root_key, tcb_key.public_key(), 0x5105, False)
def crl(issuer, k):
    return (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject).last_update(START).next_update(END)
            .add_extension(x509.CRLNumber(1), critical=False).sign(k, hashes.SHA256()))
root_crl, pck_crl = crl(root, root_key), crl(pck_ca, pck_ca_key)

rim_key = ec.generate_private_key(ec.SECP384R1())
rim_cert = build(name("Cloister SIMULATED RIM Signing (NOT SECURE)"), gpu_root, gpu_root_key, rim_key.public_key(), 0x5203, False)
ocsp_resp = (ocsp.OCSPResponseBuilder().add_response(cert=gpu_leaf, issuer=gpu_root, algorithm=hashes.SHA384(), cert_status=ocsp.OCSPCertStatus.GOOD,
             this_update=START, next_update=END, revocation_time=None, revocation_reason=None)
             .responder_id(ocsp.OCSPResponderEncoding.HASH, gpu_root).sign(gpu_root_key, hashes.SHA384()))

ocsp_revoked = (ocsp.OCSPResponseBuilder().add_response(cert=gpu_leaf, issuer=gpu_root, algorithm=hashes.SHA384(), cert_status=ocsp.OCSPCertStatus.REVOKED,
                this_update=START, next_update=END, revocation_time=START, revocation_reason=x509.ReasonFlags.key_compromise)
                .responder_id(ocsp.OCSPResponderEncoding.HASH, gpu_root).sign(gpu_root_key, hashes.SHA384()))

out = sys.stdout
out.write("// Generated by scripts/gen-simulated-collateral.py. Every key here is PUBLIC ON PURPOSE.\n")
for n, v in [("SIMULATED_PCK_LEAF_SGX_CERT_PEM", pem(pck_leaf)), ("SIMULATED_TCB_SIGNING_CERT_PEM", pem(tcb_cert)), ("SIMULATED_TCB_SIGNING_KEY_PEM", kpem(tcb_key)),
             ("SIMULATED_RIM_SIGNING_CERT_PEM", pem(rim_cert)), ("SIMULATED_RIM_SIGNING_KEY_PEM", kpem(rim_key))]:
    out.write(f"export const {n} = `{v}`;\n")
for n, v in [("SIMULATED_ROOT_CA_CRL_HEX", root_crl.public_bytes(serialization.Encoding.DER).hex()), ("SIMULATED_PCK_CRL_HEX", pck_crl.public_bytes(serialization.Encoding.DER).hex()),
             ("SIMULATED_GPU_OCSP_HEX", ocsp_resp.public_bytes(serialization.Encoding.DER).hex()),
             ("SIMULATED_GPU_OCSP_REVOKED_HEX", ocsp_revoked.public_bytes(serialization.Encoding.DER).hex())]:
    out.write(f'export const {n} = "{v}";\n')
out.write('export const SIMULATED_FMSPC = "%s";\n' % FMSPC.hex().upper())
out.write(f"export const SIMULATED_PCK_SGX_COMPONENTS: readonly number[] = {SIM_SGX_COMPONENTS};\nexport const SIMULATED_PCK_PCESVN = {SIM_PCESVN};\n")
