package chunk

import (
	"bytes"
	"fmt"
	"testing"
)

// wireCase is one row of the table that drives the decode tests, the encode
// tests and the fuzz seeds: wire bytes and the messages they carry.
type wireCase struct {
	name      string
	chunkSize uint32 // the peer's chunk size for the whole stream
	wire      []byte
	msgs      []Message
	// canonical: a fresh Writer writing msgs produces exactly wire. Rows
	// that model other peers' quirks are not canonical.
	canonical bool
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func h(b ...byte) []byte { return b }

// pay returns n bytes counting up from seed.
func pay(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i)
	}
	return p
}

func msg(csid, ts uint32, typeID uint8, sid uint32, payload []byte) Message {
	return Message{CSID: csid, Header: Header{Timestamp: ts, TypeID: typeID, StreamID: sid}, Payload: payload}
}

func wireTable() []wireCase {
	// §5.3.2.1 Example 1: four 32-byte audio messages on chunk stream 3,
	// message stream 12345, timestamps 1000, 1020, 1040, 1060: a type 0
	// chunk (44 bytes), a type 2 chunk with delta 20 (36 bytes), then type 3
	// chunks (33 bytes).
	a1, a2, a3, a4 := pay(32, 0x10), pay(32, 0x30), pay(32, 0x50), pay(32, 0x70)
	// §5.3.2.2 Example 2: one 307-byte video message on chunk stream 4,
	// message stream 12346, timestamp 1000, in 128-byte chunks: type 0
	// (140 bytes), type 3 (129 bytes), type 3 (52 bytes).
	v := pay(307, 0)

	e200 := pay(200, 0x80)
	e10 := pay(10, 0x20)
	e150 := []([]byte){pay(150, 0x40), pay(150, 0x41), pay(150, 0x42), pay(150, 0x43), pay(150, 0x44)}

	return []wireCase{
		{
			name:      "spec 5.3.2.1 example 1",
			chunkSize: 128,
			wire: cat(
				h(0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0x00, 0x00), a1,
				h(0x83, 0x00, 0x00, 0x14), a2,
				h(0xC3), a3,
				h(0xC3), a4,
			),
			msgs: []Message{
				msg(3, 1000, 8, 12345, a1),
				msg(3, 1020, 8, 12345, a2),
				msg(3, 1040, 8, 12345, a3),
				msg(3, 1060, 8, 12345, a4),
			},
			canonical: true,
		},
		{
			name:      "spec 5.3.2.2 example 2",
			chunkSize: 128,
			wire: cat(
				h(0x04, 0x00, 0x03, 0xE8, 0x00, 0x01, 0x33, 0x09, 0x3A, 0x30, 0x00, 0x00), v[:128],
				h(0xC4), v[128:256],
				h(0xC4), v[256:],
			),
			msgs:      []Message{msg(4, 1000, 9, 12346, v)},
			canonical: true,
		},
		{
			name:      "5.3.1.2.4 type 3 after type 0 takes its timestamp as delta",
			chunkSize: 128,
			wire: cat(
				h(0x03, 0x00, 0x00, 40, 0x00, 0x00, 0x04, 0x08, 0x01, 0x00, 0x00, 0x00), pay(4, 1),
				h(0xC3), pay(4, 2),
			),
			msgs:      []Message{msg(3, 40, 8, 1, pay(4, 1)), msg(3, 80, 8, 1, pay(4, 2))},
			canonical: true,
		},
		{
			name:      "5.3.1.3 extended timestamp on type 0 and its continuation",
			chunkSize: 128,
			wire: cat(
				h(0x05, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC8, 0x09, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00), e200[:128],
				h(0xC5, 0x01, 0x00, 0x00, 0x00), e200[128:],
			),
			msgs:      []Message{msg(5, 0x01000000, 9, 1, e200)},
			canonical: true,
		},
		{
			name:      "5.3.1.3 extended timestamps across types 0 1 2 3",
			chunkSize: 128,
			wire: cat(
				// type 0, timestamp 0xFFFFFF needs the extended field too
				h(0x06, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 10, 0x09, 0x01, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF), e10,
				// type 1, extended delta 0x01000000; continuation repeats it
				h(0x46, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 150, 0x09, 0x01, 0x00, 0x00, 0x00), e150[0][:128],
				h(0xC6, 0x01, 0x00, 0x00, 0x00), e150[0][128:],
				// type 2, extended delta 0x01000001
				h(0x86, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x01), e150[1][:128],
				h(0xC6, 0x01, 0x00, 0x00, 0x01), e150[1][128:],
				// type 3 new message, same extended delta
				h(0xC6, 0x01, 0x00, 0x00, 0x01), e150[2][:128],
				h(0xC6, 0x01, 0x00, 0x00, 0x01), e150[2][128:],
				// type 2, small delta: no extended field any more
				h(0x86, 0x00, 0x00, 0x05), e150[3][:128],
				h(0xC6), e150[3][128:],
				h(0xC6), e150[4][:128],
				h(0xC6), e150[4][128:],
			),
			msgs: []Message{
				msg(6, 0x00FFFFFF, 9, 1, e10),
				msg(6, 0x01FFFFFF, 9, 1, e150[0]),
				msg(6, 0x03000000, 9, 1, e150[1]),
				msg(6, 0x04000001, 9, 1, e150[2]),
				msg(6, 0x04000006, 9, 1, e150[3]),
				msg(6, 0x0400000B, 9, 1, e150[4]),
			},
			canonical: true,
		},
		{
			name:      "quirk: extended timestamp omitted on continuation (old librtmp)",
			chunkSize: 128,
			wire: cat(
				h(0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC8, 0x09, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00), e200[:128],
				h(0xC4), e200[128:],
				// then a spec-conformant type 3 new message: the field is there
				h(0xC4, 0x01, 0x00, 0x00, 0x00), e200[:128],
				h(0xC4, 0x01, 0x00, 0x00, 0x00), e200[128:],
			),
			msgs:      []Message{msg(4, 0x01000000, 9, 1, e200), msg(4, 0x02000000, 9, 1, e200)},
			canonical: false,
		},
		{
			name:      "quirk: absolute timestamp on continuation after type 1 extended delta",
			chunkSize: 128,
			wire: cat(
				h(0x04, 0x00, 0x00, 100, 0x00, 0x00, 10, 0x09, 0x01, 0x00, 0x00, 0x00), e10,
				h(0x44, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC8, 0x09, 0x01, 0x00, 0x00, 0x00), e200[:128],
				h(0xC4, 0x01, 0x00, 0x00, 100), e200[128:],
			),
			msgs:      []Message{msg(4, 100, 9, 1, e10), msg(4, 0x01000064, 9, 1, e200)},
			canonical: false,
		},
		{
			name:      "timestamp wraps past 2^32",
			chunkSize: 128,
			wire: cat(
				h(0x03, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x04, 0x08, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xF0), pay(4, 1),
				h(0x83, 0x00, 0x00, 0x20), pay(4, 2),
				h(0xC3), pay(4, 3),
			),
			msgs: []Message{
				msg(3, 0xFFFFFFF0, 8, 1, pay(4, 1)),
				msg(3, 0x10, 8, 1, pay(4, 2)),
				msg(3, 0x30, 8, 1, pay(4, 3)),
			},
			canonical: true,
		},
		{
			name:      "5.3.1.1 basic header forms at the edge IDs",
			chunkSize: 128,
			wire: cat(
				h(0x02), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 2),
				h(0x3F), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 63),
				h(0x00, 0x00), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 64),
				h(0x00, 0xFF), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 0x3F),
				h(0x01, 0x00, 0x01), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 0x40),
				h(0x01, 0xFF, 0xFF), h(0, 0, 0, 0, 0, 3, 20, 0, 0, 0, 0), pay(3, 0xFF),
			),
			msgs: []Message{
				msg(2, 0, 20, 0, pay(3, 2)),
				msg(63, 0, 20, 0, pay(3, 63)),
				msg(64, 0, 20, 0, pay(3, 64)),
				msg(319, 0, 20, 0, pay(3, 0x3F)),
				msg(320, 0, 20, 0, pay(3, 0x40)),
				msg(65599, 0, 20, 0, pay(3, 0xFF)),
			},
			canonical: true,
		},
		{
			name:      "5.3.1.1 3-byte form for IDs that fit in 2 bytes",
			chunkSize: 128,
			wire: cat(
				h(0x01, 0x00, 0x00), h(0, 0, 0, 0, 0, 1, 20, 0, 0, 0, 0), pay(1, 1),
				h(0x01, 0xEC, 0x00), h(0, 0, 0, 0, 0, 1, 20, 0, 0, 0, 0), pay(1, 2),
			),
			msgs:      []Message{msg(64, 0, 20, 0, pay(1, 1)), msg(300, 0, 20, 0, pay(1, 2))},
			canonical: false,
		},
		{
			name:      "interleaved chunk streams",
			chunkSize: 128,
			wire: cat(
				h(0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2C, 0x09, 0x01, 0x00, 0x00, 0x00), v[:128],
				h(0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 20, 0x08, 0x01, 0x00, 0x00, 0x00), pay(20, 1),
				h(0xC4), v[128:256],
				h(0x86, 0x00, 0x00, 23), pay(20, 2),
				h(0xC4), v[256:300],
			),
			msgs: []Message{
				msg(6, 0, 8, 1, pay(20, 1)),
				msg(6, 23, 8, 1, pay(20, 2)),
				msg(4, 0, 9, 1, v[:300]),
			},
			canonical: false,
		},
		{
			name:      "zero-length message",
			chunkSize: 128,
			wire:      h(0x03, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00),
			msgs:      []Message{msg(3, 5, 4, 0, nil)},
			canonical: true,
		},
		{
			name:      "chunk size 1",
			chunkSize: 1,
			wire: cat(
				h(0x03, 0x00, 0x00, 0x07, 0x00, 0x00, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00), h('a'),
				h(0xC3), h('b'),
				h(0xC3), h('c'),
			),
			msgs:      []Message{msg(3, 7, 20, 0, []byte("abc"))},
			canonical: true,
		},
		{
			name:      "quirk: type 1 starts chunk stream 2 (librtmp ping)",
			chunkSize: 128,
			wire:      cat(h(0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x04), h(0x00, 0x06, 0x00, 0x00, 0x0D, 0x0F)),
			msgs:      []Message{msg(2, 0, 4, 0, h(0x00, 0x06, 0x00, 0x00, 0x0D, 0x0F))},
			canonical: false,
		},
	}
}

func equalMessages(t *testing.T, got, want []Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d:\n%s", len(got), len(want), describe(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.CSID != w.CSID || g.Header != w.Header || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("message %d:\n got csid %d %+v len %d\nwant csid %d %+v len %d",
				i, g.CSID, g.Header, len(g.Payload), w.CSID, w.Header, len(w.Payload))
		}
	}
}

func describe(ms []Message) string {
	var b bytes.Buffer
	for _, m := range ms {
		fmt.Fprintf(&b, "  csid %d %+v len %d\n", m.CSID, m.Header, len(m.Payload))
	}
	return b.String()
}
