package message

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode checks, for any type ID and payload: Decode does not panic;
// a decoded message encodes, and decoding that gives the same message and
// the same bytes again (a fixed point); the typed command views and the
// aggregate iterator hold the same properties. Seeds: the golden table and
// the bad inputs.
func FuzzDecode(f *testing.F) {
	for _, g := range goldens {
		f.Add(byte(g.typ), g.wire)
	}
	for _, c := range badInputs {
		f.Add(byte(c.typ), c.wire)
	}
	f.Fuzz(func(t *testing.T, typeID byte, payload []byte) {
		typ := Type(typeID)
		m, err := Decode(typ, payload)
		if err != nil {
			if m != nil && !errors.Is(err, ErrReservedBit) {
				t.Fatalf("message %#v with error %v", m, err)
			}
			return
		}
		if m.Type() != typ {
			t.Fatalf("Type() = %v, want %v", m.Type(), typ)
		}
		checkFixedPoint(t, typ, m)
		switch m := m.(type) {
		case Command:
			fuzzViews(t, m)
		case Data:
			m.Unwrap()
			m.MetaData()
			m.IsSetDataFrame()
			m.IsClearDataFrame()
		case Aggregate:
			fuzzAggregate(t, m.Payload)
		}
	})
}

// fuzzViews parses c with every view. A view that parses must build a
// command that encodes, decodes and parses to the same typed fields.
func fuzzViews(t *testing.T, c Command) {
	c.Status()
	c.ResultStreamID()
	for _, like := range []viewer{Connect{}, CreateStream{}, Publish{}, Play{}, Play2{}, Pause{}, Seek{}, ReceiveAudio{}, ReceiveVideo{}, CloseStream{}, DeleteStream{}, ReleaseStream{}, FCPublish{}, FCUnpublish{}, ReconnectRequest{}} {
		v1, err := parseView(c, like)
		if err != nil {
			continue
		}
		c1 := v1.Command()
		c1.AMF3 = c.AMF3
		b, err := c1.AppendPayload(nil)
		if err != nil {
			t.Fatalf("%T: encode %#v: %v", v1, c1, err)
		}
		m2, err := Decode(c.Type(), b)
		if err != nil {
			t.Fatalf("%T: decode %x: %v", v1, b, err)
		}
		v2, err := parseView(m2.(Command), like)
		if err != nil {
			t.Fatalf("%T: parse again: %v", v1, err)
		}
		if k1, ok := v1.(Connect); ok {
			// Props may change form (an ECMA array or AMF 3 object is
			// written as an AMF 0 object); the fields may not.
			k2 := v2.(Connect)
			if !equal(k1.Object(), k1.Props) {
				t.Fatalf("unchanged Connect writes\n%#v\nfrom\n%#v", k1.Object(), k1.Props)
			}
			k1.Props, k2.Props = nil, nil
			v1, v2 = k1, k2
		}
		if !equal(v1, v2) {
			t.Fatalf("view %T not a fixed point:\n%#v\n%#v", v1, v1, v2)
		}
	}
}

// fuzzAggregate iterates an aggregate strictly and leniently. Every
// sub-message lies inside the payload; the sub-messages rebuild into an
// aggregate that splits into the same sub-messages.
func fuzzAggregate(t *testing.T, payload []byte) {
	for _, lenient := range []bool{false, true} {
		it := NewAggregateIterator(payload, 12345)
		it.IgnoreBackPointers = lenient
		var subs []SubMessage
		for it.Next() {
			subs = append(subs, it.Message())
		}
		if it.Err() == nil && !lenient && len(subs) > 0 {
			b, err := AppendAggregate(nil, subs)
			if err != nil {
				t.Fatalf("AppendAggregate: %v", err)
			}
			again, err := Aggregate{Payload: b}.Split(nil, subs[0].Timestamp)
			if err != nil || !equal(again, subs) {
				t.Fatalf("rebuilt aggregate splits to %#v, %v; want %#v", again, err, subs)
			}
		}
		total := 0
		for _, s := range subs {
			total += SubMessageHeaderLen + len(s.Payload)
			if len(s.Payload) > 0 && !bytes.Contains(payload, s.Payload) {
				t.Fatal("sub-message payload outside the aggregate")
			}
		}
		if total > len(payload) {
			t.Fatalf("sub-messages total %d bytes in a %d-byte payload", total, len(payload))
		}
	}
}
