package codecinfo_test

import (
	"fmt"

	"github.com/ertmp/rtmp/internal/codecinfo"
)

func ExampleParseAACConfig() {
	// AudioSpecificConfig: object type 2 (AAC LC), frequency index 4 (44100 Hz),
	// channel configuration 2.
	a, err := codecinfo.ParseAACConfig([]byte{0x12, 0x10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a)
	// Output: aac LC 44100 Hz 2 ch
}

func ExampleParseVP8Keyframe() {
	// Frame tag (key frame, version 0, shown), start code, 321x243.
	v, err := codecinfo.ParseVP8Keyframe([]byte{0x90, 0x77, 0x00, 0x9d, 0x01, 0x2a, 0x41, 0x01, 0xf3, 0x00})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)
	// Output: vp8 0 321x243 4:2:0 8-bit
}
