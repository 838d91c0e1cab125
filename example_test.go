package rtmp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// avcRecord is an AVCDecoderConfigurationRecord for 1280x720 H.264 High
// profile, as libx264 writes it.
var avcRecord = []byte{
	0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
	0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x83,
	0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
}

// A server that takes one publisher and reports what it sends. The
// publisher is an rtmp client writing a sequence header and two frames.
func ExampleServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	srv := &rtmp.Server{Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		defer close(done)
		if r.Kind != rtmp.KindPublish || r.Query.Get("key") != "secret" {
			r.Reject("", "bad key")
			return
		}
		fmt.Printf("%s %s/%s\n", r.Kind, r.App, r.StreamName)
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err == io.EOF {
				fmt.Println("unpublished")
				return
			}
			if err != nil {
				fmt.Println(err)
				return
			}
			switch {
			case pk.IsSequenceHeader():
				v, _ := pk.VideoInfo()
				fmt.Printf("%v at %d ms: sequence header, %v\n", pk.Type, pk.Timestamp, v)
			case pk.IsKeyFrame():
				fmt.Printf("%v at %d ms: key frame, %d bytes\n", pk.Type, pk.Timestamp, len(pk.Payload))
			default:
				fmt.Printf("%v at %d ms: %d bytes\n", pk.Type, pk.Timestamp, len(pk.Payload))
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, "rtmp://"+ln.Addr().String()+"/live/cam?key=secret", nil)
	if err != nil {
		log.Fatal(err)
	}
	pub.WriteAVCSequenceHeader(0, avcRecord)
	pub.WriteAVC(0, true, 0, []byte{0, 0, 0, 2, 0x65, 0x88})
	pub.WriteAVC(40, false, 0, []byte{0, 0, 0, 2, 0x41, 0x9a})
	pub.Close()
	<-done
	// Output:
	// publish live/cam
	// Video at 0 ms: sequence header, h264 High@31 1280x720 4:2:0 8-bit
	// Video at 0 ms: key frame, 11 bytes
	// Video at 40 ms: 11 bytes
	// unpublished
}

// Publish a stream: metadata, then audio. The server here only counts what
// arrives; DialPublish returns once it answered NetStream.Publish.Start.
func ExampleDialPublish() {
	addr, received, stop := countingServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/radio", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("publishing with stream id", pub.StreamID())
	pub.WriteMetadata(0, amf0.Object{{Key: "audiocodecid", Value: 10.0}}, false)
	pub.WriteAACSequenceHeader(0, []byte{0x12, 0x10}) // AAC LC, 44.1 kHz, stereo
	for i := range 3 {
		pub.WriteAAC(uint32(i*23), []byte{0x21, 0x00, 0x49})
	}
	if err := pub.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-received)
	// Output:
	// publishing with stream id 1
	// the server got 1 data, 4 audio and 0 video packets
}

// countingServer serves one publisher and sends a summary of what it got.
func countingServer() (addr string, summary <-chan string, stop func() error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ch := make(chan string, 1)
	srv := &rtmp.Server{Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		n := map[message.Type]int{}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				break
			}
			n[pk.Type]++
		}
		ch <- fmt.Sprintf("the server got %d data, %d audio and %d video packets", n[message.TypeDataAMF0], n[message.TypeAudio], n[message.TypeVideo])
	})}
	go srv.Serve(ln)
	return ln.Addr().String(), ch, srv.Close
}

// Play a stream from a server that sends metadata, a video sequence header
// and a key frame, then ends it.
func ExampleDialPlay() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &rtmp.Server{Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		ps.WriteMetadata(0, message.NewOnMetaData(amf0.Object{{Key: "width", Value: 1280.0}, {Key: "height", Value: 720.0}}))
		ps.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: 0, Payload: append([]byte{0x17, 0, 0, 0, 0}, avcRecord...)})
		ps.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: 0, Payload: []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88}})
		ps.Close() // StreamEOF and NetStream.Play.Stop: the player's io.EOF
	})}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	play, err := rtmp.DialPlay(ctx, "rtmp://"+ln.Addr().String()+"/live/cam", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer play.Close()
	for {
		pk, err := play.ReadPacket()
		if err == io.EOF {
			fmt.Println("end of stream")
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case pk.Type == message.TypeDataAMF0:
			d, _ := message.UnmarshalData(pk.Type, pk.Payload)
			md, _ := d.MetaData()
			w, _ := md.GetNumber("width")
			h, _ := md.GetNumber("height")
			fmt.Printf("metadata: %gx%g\n", w, h)
		case pk.IsSequenceHeader():
			v, _ := pk.VideoInfo()
			fmt.Println("sequence header:", v)
		default:
			fmt.Printf("%v %v, key frame %v\n", pk.Type, pk.Codec(), pk.IsKeyFrame())
		}
	}
	// Output:
	// metadata: 1280x720
	// sequence header: h264 High@31 1280x720 4:2:0 8-bit
	// Video avc1, key frame true
	// end of stream
}
