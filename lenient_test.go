package rtmp

import (
	"bytes"
	"testing"

	"github.com/ertmp/rtmp/message"
)

// FuzzLenient: the tolerant decoders never panic; what they read, the
// payload withSelector gives back decodes as specified to the same
// message; an AMF3 command they read is marked AMF3.
func FuzzLenient(f *testing.F) {
	for _, s := range []string{
		amfConnect + amfOne + amfAppLive,
		"00" + amfConnect + amfOne + amfAppLive,
		amfSetDataFrame + amfOnMetaData + amfWidth640,
		"00" + amfSetDataFrame + amfOnMetaData + amfWidth640,
		soUseBody, "00" + soUseBody,
		"00 0000000000000000", "07", "",
	} {
		f.Add(hexb(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := decodeCommand(message.TypeCommandAMF3, b); err == nil && !c.AMF3 {
			t.Fatalf("AMF3 command read without its flag: %+v", c)
		}
		if d, err := decodeData(message.TypeDataAMF3, b); err == nil {
			fixed := withSelector(message.TypeDataAMF3, b)
			d2, err := message.UnmarshalData(message.TypeDataAMF3, fixed)
			if err != nil {
				t.Fatalf("data read from % x, but % x does not decode: %v", b, fixed, err)
			}
			if !samePayload(d, d2) {
				t.Fatalf("data % x: %#v, then %#v", b, d, d2)
			}
		}
		if so, err := decodeSharedObject(message.TypeSharedObjectAMF3, b); err == nil {
			fixed := withSelector(message.TypeSharedObjectAMF3, b)
			so2, err := message.UnmarshalSharedObject(message.TypeSharedObjectAMF3, fixed)
			if err != nil {
				t.Fatalf("shared object read from % x, but % x does not decode: %v", b, fixed, err)
			}
			if !samePayload(so, so2) {
				t.Fatalf("shared object % x: %#v, then %#v", b, so, so2)
			}
		}
		// Types without a selector are left alone.
		if got := withSelector(message.TypeDataAMF0, b); !bytes.Equal(got, b) {
			t.Fatal("type 18 changed")
		}
	})
}

func samePayload(a, b message.Message) bool {
	x, err1 := a.AppendPayload(nil)
	y, err2 := b.AppendPayload(nil)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
