package handshake

import (
	"fmt"
	"io"
)

// checkC0 applies §5.2.2: "Values 0-2 are deprecated values used by earlier
// proprietary products; 4-31 are reserved for future implementations; and
// 32-255 are not allowed (to allow distinguishing RTMP from text-based
// protocols, which always start with a printable character). A server that
// does not recognize the client's requested version SHOULD respond with 3."
//
// So 0-31 are answered with 3, except the RTMPE versions, which would need
// an encrypted session we cannot give, and 22 (0x16), which is how a TLS
// record starts: an RTMPS client at a plain RTMP port would otherwise wait
// for S0 while we wait for the rest of C1. 32-255 (an HTTP request, say) are
// rejected. Nothing is read past a rejected C0.
func checkC0(v byte) error {
	if v >= 32 || isEncrypted(v) || v == tlsHandshake {
		return &VersionError{Packet: "C0", Version: v}
	}
	return nil
}

// tlsHandshake is the first byte of a TLS ClientHello (the record type).
const tlsHandshake = 0x16

// serverBufs is the whole memory of a server handshake, one allocation.
type serverBufs struct {
	in  [1 + Size]byte   // C0 C1, then C2 in in[1:]
	out [1 + 2*Size]byte // S0 S1 S2
}

// Server runs the server side of the handshake on rw: it reads C0 and C1,
// writes S0, S1 and S2 in one Write, and reads C2 (§5.2.1). It answers a
// digest C1 with a digest S1 in the same schema and the S2 response digest,
// and any other C1 with a simple S1 and S2 = C1 (see Mode).
//
// Server reads and writes only rw, with no timeout of its own: set a
// deadline on the net.Conn before calling it. When it returns nil, the next
// byte of rw is the first chunk. An error leaves rw in an undefined state;
// close the connection.
func Server(rw io.ReadWriter, cfg *Config) (Result, error) {
	var res Result
	mode, err := cfg.mode()
	if err != nil {
		return res, err
	}
	b := new(serverBufs)

	if err := readFull(rw, b.in[:1], true); err != nil {
		return res, fmt.Errorf("handshake: reading C0: %w", err)
	}
	res.RequestedVersion = b.in[0]
	if err := checkC0(b.in[0]); err != nil {
		return res, err
	}
	c1 := b.in[1:]
	if err := readFull(rw, c1, false); err != nil {
		return res, fmt.Errorf("handshake: reading C1: %w", err)
	}
	ch, err := ParseC1(c1)
	if err != nil {
		return res, err
	}
	res.PeerEpoch, res.PeerVersion = ch.Epoch, ch.Version
	if mode == ModeSimple {
		ch.Kind = KindSimple
	}
	if mode == ModeDigest && ch.Kind != KindDigest {
		return res, fmt.Errorf("handshake: C1 carries no valid digest: %w", ErrDigest)
	}

	b.out[0] = RTMPVersion
	s1 := (*[Size]byte)(b.out[1 : 1+Size])
	s2 := (*[Size]byte)(b.out[1+Size:])
	var s1Digest [DigestSize]byte
	if ch.Kind == KindDigest {
		res.Kind, res.Schema = KindDigest, ch.Schema
		s1Digest, err = BuildS1(s1, cfg.epoch(), cfg.version(DefaultServerVersion), ch.Schema, cfg.rand())
		if err != nil {
			return res, err
		}
		if err := BuildS2(s2, ch.Digest, cfg.rand()); err != nil {
			return res, err
		}
	} else {
		if err := BuildSimple(s1, cfg.epoch(), cfg.rand()); err != nil {
			return res, err
		}
		// §5.2.4 wants time2 to be when C1 was read; we read no clock, so
		// S2 is C1 verbatim, which is what byte-comparing clients accept.
		copy(s2[:], c1)
	}
	if _, err := rw.Write(b.out[:]); err != nil {
		return res, fmt.Errorf("handshake: writing S0S1S2: %w", err)
	}

	c2 := b.in[1:]
	if err := readFull(rw, c2, false); err != nil {
		return res, fmt.Errorf("handshake: reading C2: %w", err)
	}
	if res.Kind == KindDigest {
		res.Verified = VerifyC2(c2, s1Digest)
		if !res.Verified && cfg.strict() {
			return res, fmt.Errorf("handshake: C2 response digest: %w", ErrDigest)
		}
	} else {
		res.Verified = echoes(c2, s1[:])
		if !res.Verified && cfg.strict() {
			return res, fmt.Errorf("handshake: C2: %w", ErrEcho)
		}
	}
	return res, nil
}
