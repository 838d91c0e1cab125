package handshake

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Wire sizes (RTMP 1.0 §5.2.2–§5.2.4).
const (
	// RTMPVersion is the only C0/S0 version this package speaks (§5.2.2).
	RTMPVersion = 3
	// Size is the length of each of C1, S1, C2 and S2.
	Size = 1536
	// DigestSize is the length of an HMAC-SHA256 digest in a digest handshake.
	DigestSize = 32
)

// Default versions advertised in bytes 4..7 of a digest C1/S1. Any nonzero
// value marks the digest handshake; a peer may compare the first byte with a
// threshold (FFmpeg, as a player, checks the server's digests only when the
// first byte of S1's version is at least 3), so both are well above it.
// Treat them as read-only; set Config.Version to advertise another.
var (
	// DefaultClientVersion is Flash Player 9.0.124.2, the version that
	// librtmp and FFmpeg send with a digest C1.
	DefaultClientVersion = [4]byte{9, 0, 124, 2}
	// DefaultServerVersion is 13.14.10.13.
	DefaultServerVersion = [4]byte{13, 14, 10, 13}
)

// Errors callers branch on. Every error returned by Client and Server is
// prefixed "handshake:" and wraps one of these, io.ErrUnexpectedEOF
// (truncated handshake), io.EOF (Server only: the peer closed before sending
// a single byte), or the error of the underlying reader, writer or Rand.
var (
	// ErrVersion: the peer's C0/S0 version is not one we can answer.
	ErrVersion = errors.New("handshake: unsupported RTMP version")
	// ErrEncrypted: the peer asked for RTMPE (C0/S0 version 6, 8 or 9),
	// which this package does not implement. It also matches ErrVersion.
	ErrEncrypted = errors.New("handshake: encrypted RTMP (RTMPE) is not supported")
	// ErrDigest: a digest handshake was required (ModeDigest) and the
	// peer's C1/S1 carries no valid digest, or Strict is set and the
	// peer's C2/S2 does not carry the expected response digest.
	ErrDigest = errors.New("handshake: digest missing or invalid")
	// ErrEcho: Strict is set, the handshake is simple and the peer's C2/S2
	// does not echo our S1/C1 (§5.2.4).
	ErrEcho = errors.New("handshake: C2/S2 does not echo S1/C1")
)

// VersionError reports an unusable version byte in C0 or S0. It matches
// ErrVersion with errors.Is, and also ErrEncrypted for the RTMPE versions.
type VersionError struct {
	Packet  string // "C0" or "S0"
	Version byte
}

func (e *VersionError) Error() string {
	if isEncrypted(e.Version) {
		return fmt.Sprintf("handshake: %s version %d: RTMPE is not supported", e.Packet, e.Version)
	}
	if e.Version == tlsHandshake {
		return fmt.Sprintf("handshake: %s version %d: a TLS handshake (RTMPS client at a plain RTMP port?)", e.Packet, e.Version)
	}
	return fmt.Sprintf("handshake: %s version %d: unsupported RTMP version", e.Packet, e.Version)
}

func (e *VersionError) Unwrap() []error {
	if isEncrypted(e.Version) {
		return []error{ErrEncrypted, ErrVersion}
	}
	return []error{ErrVersion}
}

// isEncrypted reports the C0/S0 values of RTMPE: 6 (Diffie-Hellman + RC4)
// and 8, 9 (the same, with the XTEA and Blowfish signature variants).
func isEncrypted(v byte) bool { return v == 6 || v == 8 || v == 9 }

// Mode selects which handshakes an endpoint offers or accepts.
type Mode uint8

const (
	// ModeAuto is the default. A client sends a digest C1 and falls back
	// to the simple handshake when S1 carries no valid digest; a server
	// answers each client in kind.
	ModeAuto Mode = iota
	// ModeSimple speaks only the RTMP 1.0 handshake of §5.2: a client
	// sends a C1 with a zero version field; a server answers every client
	// with an echo, ignoring any digest in C1.
	ModeSimple
	// ModeDigest requires the digest handshake: a client fails with
	// ErrDigest when S1 has no valid digest, a server when C1 has none.
	ModeDigest
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeSimple:
		return "simple"
	case ModeDigest:
		return "digest"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Kind is the handshake that was negotiated.
type Kind uint8

const (
	// KindSimple is the RTMP 1.0 handshake: C2/S2 echo S1/C1.
	KindSimple Kind = iota
	// KindDigest is the Flash Player 9 handshake: C1/S1 carry an
	// HMAC-SHA256 digest and C2/S2 a response digest.
	KindDigest
)

func (k Kind) String() string {
	switch k {
	case KindSimple:
		return "simple"
	case KindDigest:
		return "digest"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Config configures one side of a handshake. The zero value, and a nil
// *Config, are valid: ModeAuto, default versions, crypto/rand, epoch 0,
// lenient checks. Client and Server only read it, so one Config may be
// shared by concurrent handshakes as long as Rand is safe for concurrent
// use (crypto/rand.Reader is).
type Config struct {
	// Mode selects the handshakes offered and accepted; default ModeAuto.
	Mode Mode
	// Version is sent in bytes 4..7 of a digest C1/S1. Zero means
	// DefaultClientVersion for Client and DefaultServerVersion for Server.
	// It is not sent in a simple C1/S1, whose bytes 4..7 are zero (§5.2.3).
	Version [4]byte
	// Rand fills the random parts of C1/S1/C2/S2; default crypto/rand.Reader.
	// §5.2.3 asks for nothing stronger than "sufficiently random".
	Rand io.Reader
	// Epoch is sent as the time field of C1/S1 (§5.2.3): the epoch of the
	// timestamps this endpoint will send. The package reads no clock.
	Epoch uint32
	// Strict makes the last packet of the peer (C2 for Server, S2 for
	// Client) mandatory-correct: the response digest in a digest handshake
	// (else ErrDigest), the echo in a simple one (else ErrEcho).
	//
	// It is off by default because deployed peers often get it wrong:
	// FFmpeg as a publisher answers a digest S1 with a plain echo C2, and
	// some servers answer a digest C1 with an echo S2. Result.Verified
	// reports the outcome either way.
	Strict bool
}

func (c *Config) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

func (c *Config) mode() (Mode, error) {
	var m Mode
	if c != nil {
		m = c.Mode
	}
	if m > ModeDigest {
		return m, fmt.Errorf("handshake: invalid mode %d", uint8(m))
	}
	return m, nil
}

func (c *Config) version(def [4]byte) [4]byte {
	if c == nil || c.Version == ([4]byte{}) {
		return def
	}
	return c.Version
}

func (c *Config) epoch() uint32 {
	if c == nil {
		return 0
	}
	return c.Epoch
}

func (c *Config) strict() bool { return c != nil && c.Strict }

// Result describes a completed handshake.
type Result struct {
	// Kind is the handshake negotiated.
	Kind Kind
	// Schema is the layout of both digests; meaningful only for KindDigest.
	Schema Schema
	// PeerVersion is bytes 4..7 of the peer's C1/S1: its software version
	// for a digest peer, normally zero for a simple one.
	PeerVersion [4]byte
	// PeerEpoch is the time field of the peer's C1/S1 (§5.2.3), the epoch
	// of the timestamps it will send.
	PeerEpoch uint32
	// RequestedVersion is the peer's C0 (Server) or S0 (Client) byte.
	// A Server answers 3 to a version it does not recognize (§5.2.2), so
	// this may differ from 3 there; for a Client it is always 3.
	RequestedVersion byte
	// Verified reports that the peer's last packet (C2 or S2) was the
	// correct answer: the response digest in a digest handshake, the echo
	// in a simple one. Without Config.Strict a wrong answer is tolerated
	// and only clears this flag.
	Verified bool
}

// readFull reads len(p) bytes. io.EOF survives only when start is set (no
// byte of the handshake has been read yet); anywhere else the handshake is
// truncated.
func readFull(r io.Reader, p []byte, start bool) error {
	_, err := io.ReadFull(r, p)
	if err == io.EOF && !start {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// echoes reports whether reply is the §5.2.4 echo of sent: the same time
// field and random data. Bytes 4..7 (time2) may differ.
func echoes(reply, sent []byte) bool {
	return string(reply[0:4]) == string(sent[0:4]) && string(reply[8:Size]) == string(sent[8:Size])
}
