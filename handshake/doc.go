// Package handshake implements the RTMP handshake, both sides: the simple
// handshake of the RTMP 1.0 specification (§5.2, "Handshake") and the
// digest (HMAC-SHA256) handshake of Flash Player 9 and later, in both of
// its layouts (Schema0 and Schema1). Encrypted RTMP (RTMPE) is not
// supported and is refused with ErrEncrypted.
//
// Client and Server run a whole handshake over an io.ReadWriter:
//
//	client                           server
//	C0 C1         (one Write)  ->
//	                           <-    S0 S1 S2   (one Write)
//	C2                         ->
//
// Each is a plain sequence of reads and writes on the connection it is
// given: no goroutines, no clock, no logging, no deadline of its own (set
// one on the net.Conn first). The packets are fixed-size, so a handshake
// allocates one 4.6 KB buffer for them (plus HMAC state) whatever the peer
// sends.
//
// Negotiation. A Client in ModeAuto (the default) sends a digest C1; a
// Server answers a C1 whose version field is nonzero and whose digest is
// valid with a digest S1 in the same schema and an S2 response digest, and
// any other C1 with a simple S1 and S2 = C1. The client then sees either a
// valid server digest in S1 (and answers with a response digest) or not
// (and answers C2 = S1, the simple handshake), so it works against both
// kinds of server. Result says which handshake was negotiated.
//
// Versions (§5.2.2). A Server accepts C0 = 3, answers 3 to the values the
// specification reserves or deprecates (0-31), as it says a server SHOULD,
// refuses 6, 8 and 9 (RTMPE) with ErrEncrypted, and 32-255 (not allowed by
// §5.2.2) and 22 (the first byte of a TLS ClientHello) with ErrVersion.
// A Client accepts only S0 = 3.
//
// The building blocks (ParseC1, ParseS1, BuildSimple, BuildC1, BuildS1,
// BuildC2, BuildS2, VerifyC2, VerifyS2, DigestOffset) do no I/O and may be
// used on their own, for instance by tests and fuzzers.
//
// All functions are safe for concurrent use on distinct connections and
// buffers.
package handshake
