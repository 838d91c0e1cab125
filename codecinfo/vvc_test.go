package codecinfo

import (
	"errors"
	"io"
	"testing"
)

// vvcRecord writes a VVCDecoderConfigurationRecord with a PTL that has
// sub-layer levels and sub-profiles, and an SPS and an OPI array (ISO/IEC
// 14496-15:2022 §11.2.4.2.2).
func vvcRecord() []byte {
	w := &bitWriter{}
	w.u(5, 0x1f).u(2, 3).u(1, 1)
	w.u(9, 0).u(3, 3).u(2, 1).u(2, 1).u(3, 2).u(5, 0x1f)
	// VvcPTLRecord(3)
	w.u(2, 0).u(6, 1)
	w.u(7, 1).u(1, 0).u(8, 83) // Main 10, Main tier, level 5.1
	w.u(1, 1).u(1, 0).u(6, 0)  // frame only, not multilayer, 6 bits of constraint info
	w.u(1, 1).u(1, 0).u(6, 0)  // sublayer level present for i = 1, not 0; reserved
	w.u(8, 80)                 // sublayer_level_idc[1]
	w.u(8, 2).u(32, 0xdeadbeef).u(32, 0x01020304)
	w.u(16, 3840).u(16, 2160).u(16, 0)
	w.u(8, 2)
	w.u(1, 1).u(2, 0).u(5, 15).u(16, 1).u(16, 3).u(24, 0x00790a) // SPS array
	w.u(1, 1).u(2, 0).u(5, 12).u(16, 2).u(16, 0x0061)            // OPI: no num_nalus
	return w.raw()
}

func TestVVCConfig(t *testing.T) {
	want := Video{Codec: "vvc", Width: 3840, Height: 2160, Profile: "Main 10", Level: 83,
		Tier: "Main", BitDepth: 10, ChromaFormat: "4:2:0"}
	rec := vvcRecord()
	got, err := ParseVVCConfig(rec)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, want)
	}
	// The same after a vvcC FullBox version and flags.
	got, err = ParseVVCConfig(append([]byte{0, 0, 0, 0}, rec...))
	if err != nil || got != want {
		t.Fatalf("FullBox: got %+v, %v", got, err)
	}
	for n := 0; n < len(rec); n++ {
		if _, err := ParseVVCConfig(rec[:n:n]); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("rec[:%d]: err %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
	// Without a PTL: the codec only.
	got, err = ParseVVCConfig([]byte{0xfe, 0})
	if err != nil || got != (Video{Codec: "vvc"}) {
		t.Fatalf("no PTL: got %+v, %v", got, err)
	}
}
