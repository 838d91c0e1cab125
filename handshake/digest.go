package handshake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// The digest handshake is not in the RTMP 1.0 specification. It is the one
// Flash Player 9 and later, Flash Media Server and most deployed software
// speak; its layout below is the publicly documented one.
//
// A digest C1/S1 keeps the §5.2.3 time field, puts a nonzero version where
// §5.2.3 has zero, and splits the 1528 random bytes into two 764-byte
// blocks, a key block and a digest block, in either order (the schema):
//
//	Schema 0 (key block first):
//	 0      4        8                  772                         1536
//	 +------+--------+-------------------+---------------------------+
//	 | time | version| key block (764)   | digest block (764)        |
//	 +------+--------+-------------------+---------------------------+
//
//	Schema 1 (digest block first):
//	 0      4        8                  772                         1536
//	 +------+--------+-------------------+---------------------------+
//	 | time | version| digest block (764)| key block (764)           |
//	 +------+--------+-------------------+---------------------------+
//
//	digest block:
//	 +-------------+--------------------------------------------------+
//	 | offset (4)  | 760 bytes; the 32-byte digest starts at           |
//	 |  o0 o1 o2 o3| (o0+o1+o2+o3) % 728 from the start of these 760  |
//	 +-------------+--------------------------------------------------+
//
// So the digest sits at (sum of bytes 772..775) % 728 + 776 in schema 0 and
// at (sum of bytes 8..11) % 728 + 12 in schema 1. It is the HMAC-SHA256 of
// the other 1504 bytes (the packet with the digest cut out), keyed with the
// first 30 bytes of clientKey for C1 and the first 36 of serverKey for S1.
//
// The key block carries a Diffie-Hellman public key used only by RTMPE; here
// it stays random, as it does in every unencrypted digest handshake.
//
// The answer to a digest is a digest over random data: C2/S2 are 1504 random
// bytes followed by HMAC-SHA256(K, bytes 0..1503), where
// K = HMAC-SHA256(full key, the peer's C1/S1 digest), with the full 62-byte
// clientKey for C2 and the full 68-byte serverKey for S2.

// Schema is the layout of a digest C1/S1: which 764-byte block comes first.
// The numbering follows SRS; some implementations (crtmpserver, Red5) number
// the two the other way round.
type Schema uint8

const (
	// Schema0 puts the key block first; the digest offset is bytes 772..775.
	Schema0 Schema = iota
	// Schema1 puts the digest block first; the digest offset is bytes 8..11.
	// librtmp, FFmpeg and OBS send this one, and so does Client.
	Schema1
)

func (s Schema) String() string {
	switch s {
	case Schema0:
		return "schema0"
	case Schema1:
		return "schema1"
	}
	return fmt.Sprintf("Schema(%d)", uint8(s))
}

// genuineConst is the 32 bytes that complete both full keys.
const genuineConst = "\xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57" +
	"\x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae"

var (
	// clientKey[:30] signs C1; all 62 bytes derive the C2 response key.
	clientKey = []byte("Genuine Adobe Flash Player 001" + genuineConst)
	// serverKey[:36] signs S1; all 68 bytes derive the S2 response key.
	serverKey = []byte("Genuine Adobe Flash Media Server 001" + genuineConst)
)

const (
	clientPartialKeyLen = 30
	serverPartialKeyLen = 36
	// responseLen is the signed part of a digest C2/S2.
	responseLen = Size - DigestSize
)

// DigestOffset returns where the digest of a C1/S1 laid out in schema s
// starts. p must hold at least Size bytes. The result is in [12, 740) for
// Schema1 and [776, 1504) for Schema0, so the digest always fits.
func DigestOffset(p []byte, s Schema) int {
	base := 8 // the digest block of schema 1
	if s == Schema0 {
		base = 772
	}
	sum := int(p[base]) + int(p[base+1]) + int(p[base+2]) + int(p[base+3])
	return base + 4 + sum%728
}

// packetDigest computes the HMAC-SHA256 of p[:Size] without the DigestSize
// bytes at off.
func packetDigest(p []byte, off int, key []byte) (d [DigestSize]byte) {
	h := hmac.New(sha256.New, key)
	h.Write(p[:off])
	h.Write(p[off+DigestSize : Size])
	sum(h, &d)
	return d
}

func sum(h hash.Hash, d *[DigestSize]byte) { h.Sum(d[:0]) }

// responseDigest computes the last DigestSize bytes of a digest C2/S2 whose
// first responseLen bytes are in p, answering peerDigest with fullKey.
func responseDigest(p []byte, peerDigest *[DigestSize]byte, fullKey []byte) (d [DigestSize]byte) {
	h := hmac.New(sha256.New, fullKey)
	h.Write(peerDigest[:])
	var k [DigestSize]byte
	sum(h, &k)
	h = hmac.New(sha256.New, k[:])
	h.Write(p[:responseLen])
	sum(h, &d)
	return d
}

// Challenge is what a received C1 or S1 says (§5.2.3), and for a digest
// peer where its digest is: the value the C2/S2 answer is derived from.
type Challenge struct {
	Epoch   uint32  // time field, bytes 0..3
	Version [4]byte // bytes 4..7: zero for a simple peer
	Kind    Kind    // KindDigest if a valid digest was found
	Schema  Schema  // where it was found; meaningful for KindDigest
	Digest  [DigestSize]byte
}

// ParseC1 inspects a C1. It reports KindDigest when the version field is
// nonzero and a digest keyed with the client key is valid in schema 1 or
// schema 0 (tried in that order), and KindSimple otherwise; a C1 that is not
// a valid digest C1 is a simple one, never an error. b must hold at least
// Size bytes (else the error wraps io.ErrUnexpectedEOF); only the first Size
// are read, and the result does not alias b.
func ParseC1(b []byte) (Challenge, error) {
	return parse(b, "C1", clientKey[:clientPartialKeyLen])
}

// ParseS1 is ParseC1 for an S1, whose digest is keyed with the server key.
func ParseS1(b []byte) (Challenge, error) {
	return parse(b, "S1", serverKey[:serverPartialKeyLen])
}

func parse(b []byte, name string, key []byte) (Challenge, error) {
	var c Challenge
	if len(b) < Size {
		return c, fmt.Errorf("handshake: %s is %d bytes, want %d: %w", name, len(b), Size, io.ErrUnexpectedEOF)
	}
	c.Epoch = binary.BigEndian.Uint32(b[0:4])
	copy(c.Version[:], b[4:8])
	if c.Version == ([4]byte{}) {
		return c, nil
	}
	for _, s := range [...]Schema{Schema1, Schema0} {
		off := DigestOffset(b, s)
		d := packetDigest(b, off, key)
		if hmac.Equal(d[:], b[off:off+DigestSize]) {
			c.Kind, c.Schema, c.Digest = KindDigest, s, d
			return c, nil
		}
	}
	return c, nil
}

// BuildSimple writes a simple C1 or S1 (§5.2.3) into p: epoch, four zero
// bytes, 1528 bytes from rand.
func BuildSimple(p *[Size]byte, epoch uint32, rand io.Reader) error {
	binary.BigEndian.PutUint32(p[0:4], epoch)
	clear(p[4:8])
	if _, err := io.ReadFull(rand, p[8:]); err != nil {
		return fmt.Errorf("handshake: random: %w", err)
	}
	return nil
}

// BuildC1 writes a digest C1 in schema s into p and returns its digest,
// which the server's S2 answers. version should be nonzero: a zero version
// field marks a simple C1.
func BuildC1(p *[Size]byte, epoch uint32, version [4]byte, s Schema, rand io.Reader) ([DigestSize]byte, error) {
	return build(p, epoch, version, s, rand, clientKey[:clientPartialKeyLen])
}

// BuildS1 is BuildC1 for an S1, signed with the server key. A server uses
// the schema it found in C1.
func BuildS1(p *[Size]byte, epoch uint32, version [4]byte, s Schema, rand io.Reader) ([DigestSize]byte, error) {
	return build(p, epoch, version, s, rand, serverKey[:serverPartialKeyLen])
}

func build(p *[Size]byte, epoch uint32, version [4]byte, s Schema, rand io.Reader, key []byte) ([DigestSize]byte, error) {
	if s > Schema1 {
		return [DigestSize]byte{}, fmt.Errorf("handshake: invalid schema %d", uint8(s))
	}
	binary.BigEndian.PutUint32(p[0:4], epoch)
	copy(p[4:8], version[:])
	// The offset bytes are part of the random data, so the digest lands at
	// a random place, as the peers we talk to expect.
	if _, err := io.ReadFull(rand, p[8:]); err != nil {
		return [DigestSize]byte{}, fmt.Errorf("handshake: random: %w", err)
	}
	off := DigestOffset(p[:], s)
	d := packetDigest(p[:], off, key)
	copy(p[off:], d[:])
	return d, nil
}

// BuildC2 writes into p the C2 that answers an S1 whose digest is s1Digest.
func BuildC2(p *[Size]byte, s1Digest [DigestSize]byte, rand io.Reader) error {
	return buildResponse(p, &s1Digest, rand, clientKey)
}

// BuildS2 writes into p the S2 that answers a C1 whose digest is c1Digest.
func BuildS2(p *[Size]byte, c1Digest [DigestSize]byte, rand io.Reader) error {
	return buildResponse(p, &c1Digest, rand, serverKey)
}

func buildResponse(p *[Size]byte, peerDigest *[DigestSize]byte, rand io.Reader, fullKey []byte) error {
	if _, err := io.ReadFull(rand, p[:responseLen]); err != nil {
		return fmt.Errorf("handshake: random: %w", err)
	}
	d := responseDigest(p[:], peerDigest, fullKey)
	copy(p[responseLen:], d[:])
	return nil
}

// VerifyC2 reports whether c2 answers an S1 whose digest is s1Digest.
// It reports false when c2 is shorter than Size.
func VerifyC2(c2 []byte, s1Digest [DigestSize]byte) bool {
	return verifyResponse(c2, &s1Digest, clientKey)
}

// VerifyS2 reports whether s2 answers a C1 whose digest is c1Digest.
// It reports false when s2 is shorter than Size.
func VerifyS2(s2 []byte, c1Digest [DigestSize]byte) bool {
	return verifyResponse(s2, &c1Digest, serverKey)
}

func verifyResponse(p []byte, peerDigest *[DigestSize]byte, fullKey []byte) bool {
	if len(p) < Size {
		return false
	}
	d := responseDigest(p, peerDigest, fullKey)
	return hmac.Equal(d[:], p[responseLen:Size])
}
