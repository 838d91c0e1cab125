package handshake

import (
	"fmt"
	"io"
)

// clientBufs is the whole memory of a client handshake, one allocation.
type clientBufs struct {
	out [1 + Size]byte   // C0 C1, then C2 in out[1:]
	in  [1 + 2*Size]byte // S0 S1 S2
}

// Client runs the client side of the handshake on rw: it writes C0 and C1 in
// one Write, reads S0, S1 and S2, and writes C2 (§5.2.1).
//
// In ModeAuto and ModeDigest, C1 carries a digest in Schema1. If S1 carries
// a valid server digest, C2 is the response digest; otherwise (ModeAuto) the
// server spoke the simple handshake and C2 is S1 verbatim. S2 is checked as
// described for Config.Strict.
//
// Client reads all of S2 before writing C2. §5.2.1 only requires waiting for
// S1, but a server may write S0S1S2 in one go, and on an unbuffered
// connection (net.Pipe) writing C2 before reading S2 would deadlock.
//
// Client reads and writes only rw, with no timeout of its own: set a
// deadline on the net.Conn before calling it. When it returns nil, the
// handshake is done and the caller may send chunks. An error leaves rw in
// an undefined state; close the connection.
func Client(rw io.ReadWriter, cfg *Config) (Result, error) {
	var res Result
	mode, err := cfg.mode()
	if err != nil {
		return res, err
	}
	b := new(clientBufs)

	b.out[0] = RTMPVersion
	c1 := (*[Size]byte)(b.out[1:])
	var c1Digest [DigestSize]byte
	if mode == ModeSimple {
		err = BuildSimple(c1, cfg.epoch(), cfg.rand())
	} else {
		c1Digest, err = BuildC1(c1, cfg.epoch(), cfg.version(DefaultClientVersion), Schema1, cfg.rand())
	}
	if err != nil {
		return res, err
	}
	if _, err := rw.Write(b.out[:]); err != nil {
		return res, fmt.Errorf("handshake: writing C0C1: %w", err)
	}

	// S0 alone first, so that a server that is not RTMP fails fast.
	if err := readFull(rw, b.in[:1], false); err != nil {
		return res, fmt.Errorf("handshake: reading S0: %w", err)
	}
	res.RequestedVersion = b.in[0]
	if v := b.in[0]; v != RTMPVersion {
		// §5.2.2: the client "MAY choose to degrade to version 3, or to
		// abandon the handshake". We asked for 3 and speak nothing else.
		return res, &VersionError{Packet: "S0", Version: v}
	}
	if err := readFull(rw, b.in[1:], false); err != nil {
		return res, fmt.Errorf("handshake: reading S1S2: %w", err)
	}
	s1 := b.in[1 : 1+Size]
	s2 := b.in[1+Size:]
	ch, err := ParseS1(s1)
	if err != nil {
		return res, err
	}
	res.PeerEpoch, res.PeerVersion = ch.Epoch, ch.Version

	c2 := c1 // C1 is not needed once S2 is checked
	if mode != ModeSimple && ch.Kind == KindDigest {
		res.Kind, res.Schema = KindDigest, ch.Schema
		res.Verified = VerifyS2(s2, c1Digest)
		if !res.Verified && cfg.strict() {
			return res, fmt.Errorf("handshake: S2 response digest: %w", ErrDigest)
		}
		if err := BuildC2(c2, ch.Digest, cfg.rand()); err != nil {
			return res, err
		}
	} else {
		if mode == ModeDigest {
			return res, fmt.Errorf("handshake: S1 carries no valid digest: %w", ErrDigest)
		}
		res.Verified = echoes(s2, c1[:])
		if !res.Verified && cfg.strict() {
			return res, fmt.Errorf("handshake: S2: %w", ErrEcho)
		}
		copy(c2[:], s1)
	}
	if _, err := rw.Write(c2[:]); err != nil {
		return res, fmt.Errorf("handshake: writing C2: %w", err)
	}
	return res, nil
}
