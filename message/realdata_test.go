package message

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// flvFiles are the FLV files FFmpeg 5.1, 7.1 and 9 wrote for the project
// (../testdata, see its README).
func flvFiles(t *testing.T) []string {
	var files []string
	for _, dir := range []string{"../testdata/ffmpeg", "../testdata/eflv"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.flv"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d FLV files under ../testdata", len(files))
	}
	return files
}

// An FLV body after the file header and PreviousTagSize0 is tags each
// followed by its PreviousTagSize: the layout of an aggregate message body
// (§7.1.6: "It is included to match the format of FLV file"). FFmpeg's
// files therefore split as aggregates with every back-pointer right, and
// rebuild byte for byte. Their script tags are what FFmpeg sends after
// "@setDataFrame", and must round-trip byte for byte as data messages.
func TestFFmpegFilesAsAggregates(t *testing.T) {
	for _, file := range flvFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 13 || string(b[:3]) != "FLV" {
				t.Fatal("not an FLV file")
			}
			body := b[13:]
			subs, err := Aggregate{Payload: body}.Split(nil, 0)
			if err != nil {
				t.Fatalf("split: %v", err)
			}
			if len(subs) < 2 {
				t.Fatalf("%d tags", len(subs))
			}
			if subs[0].Timestamp != 0 {
				t.Fatalf("first tag at %d", subs[0].Timestamp)
			}
			rebuilt, err := AppendAggregate(nil, subs)
			if err != nil || !bytes.Equal(rebuilt, body) {
				t.Fatalf("rebuilt aggregate differs (%v)", err)
			}
			scripts := 0
			for _, s := range subs {
				if s.Type != TypeDataAMF0 {
					continue
				}
				scripts++
				for _, wire := range [][]byte{s.Payload, append(hx(str(SetDataFrame)), s.Payload...)} {
					m, err := Decode(TypeDataAMF0, wire)
					if err != nil {
						t.Fatalf("script tag: %v", err)
					}
					d := m.(Data)
					if !d.IsMetaData() {
						t.Fatalf("script tag is not onMetaData: %v", d.Values[0])
					}
					if _, ok := d.MetaData(); !ok {
						t.Fatal("no metadata object")
					}
					out, err := d.AppendPayload(nil)
					if err != nil || !bytes.Equal(out, wire) {
						t.Fatalf("script tag re-encodes to\n%x, %v\nwant\n%x", out, err, wire)
					}
				}
			}
			if scripts == 0 {
				t.Fatal("no script tag")
			}
		})
	}
}
