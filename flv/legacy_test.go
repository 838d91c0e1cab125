package flv

import (
	"bytes"
	"os"
	"testing"
)

// Every AVC and AAC tag of an FFmpeg file, made enhanced and back, is the
// original tag again.
func TestLegacyRoundTrip(t *testing.T) {
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(src))
	n := 0
	for {
		tag, err := r.ReadTag()
		if err != nil {
			break
		}
		var enc []byte
		switch tag.Type {
		case TagVideo:
			var v VideoTag
			if err := v.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			pt := map[AVCPacketType]VideoPacketType{AVCSequenceHeader: VideoSequenceStart, AVCNALU: VideoCodedFrames, AVCEndOfSequence: VideoSequenceEnd}[v.AVCPacketType]
			e := VideoTag{Enhanced: true, FrameType: v.FrameType, PacketType: pt, FourCC: FourCCAVC, CompositionTime: v.CompositionTime, Data: v.Data}
			back, ok := e.Legacy()
			if !ok {
				t.Fatalf("no legacy form for %+v", e)
			}
			enc, _ = back.Append(nil)
		case TagAudio:
			var a AudioTag
			if err := a.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			pt := AudioCodedFrames
			if a.AACPacketType == AACSequenceHeader {
				pt = AudioSequenceStart
			}
			e := AudioTag{SoundFormat: SoundExHeader, PacketType: pt, FourCC: FourCCAAC, Data: a.Data}
			back, ok := e.Legacy()
			if !ok {
				t.Fatal("no legacy form for AAC")
			}
			enc, _ = back.Append(nil)
		default:
			continue
		}
		if !bytes.Equal(enc, tag.Data) {
			t.Fatalf("%v tag at %d: % x, want % x", tag.Type, tag.Timestamp, head(enc), head(tag.Data))
		}
		n++
	}
	if n < 100 {
		t.Fatalf("%d tags checked", n)
	}
}

func TestLegacyRefuses(t *testing.T) {
	for name, v := range map[string]VideoTag{
		"hevc":       {Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, FourCC: FourCCHEVC},
		"metadata":   {Enhanced: true, FrameType: FrameCommand, PacketType: VideoMetadata, FourCC: FourCCAVC},
		"multitrack": {Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, Multitrack: true, FourCC: FourCCAVC},
		"legacy":     {FrameType: FrameKey, CodecID: CodecAVC},
	} {
		if _, ok := v.Legacy(); ok {
			t.Errorf("%s: converted", name)
		}
	}
	a := AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCOpus}
	if _, ok := a.Legacy(); ok {
		t.Error("Opus converted")
	}
	m := AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCMP3, Data: []byte{0xFF, 0xFB}}
	if l, ok := m.Legacy(); !ok || l.SoundFormat != SoundMP3 {
		t.Errorf(".mp3: %+v %v", l, ok)
	}
}
