package codecinfo_test

import (
	"fmt"

	"github.com/ertmp/rtmp/codecinfo"
	"github.com/ertmp/rtmp/flv"
)

// Log what a stream's H.264 sequence header says. The record is the body of
// an FLV AVC sequence header after its five header bytes (or of an Enhanced
// RTMP avc1 SequenceStart), here as libx264 wrote it for a 1280x720 High
// profile stream.
func Example() {
	record := []byte{
		0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
		0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x83,
		0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
	}
	v, err := codecinfo.ParseAVCConfig(record)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s %dx%d\n", v.Codec, v.Profile, v.Width, v.Height)
	fmt.Println(v)
	// Output:
	// h264 High 1280x720
	// h264 High@31 1280x720 4:2:0 8-bit
}

func ExampleParseVideoConfig() {
	// An Enhanced RTMP vp09 SequenceStart's VPCodecConfigurationRecord
	// (version 1, flags 0; profile 0, level 3.1, 8-bit 4:2:0).
	v, err := codecinfo.ParseVideoConfig(flv.FourCCVP9, []byte{1, 0, 0, 0, 0, 31, 0x80, 2, 2, 2, 0, 0})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)
	// Output: vp9 Profile 0@31 4:2:0 8-bit
}

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
