package rtmp

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// Player pulls a stream from a server: what DialPlay returns. ReadPacket is
// called from one goroutine; the control methods and ReadEvent may be
// called from others.
type Player struct {
	client
	name string
	// packets is sent to and closed by the reader goroutine only.
	packets chan Packet
	ended   bool // reader goroutine
	// seeking is set while a pause or seek is in flight: the StreamEOF that
	// precedes its notification does not end the stream.
	smu     sync.Mutex
	seeking bool
}

// packetQueue is how many packets the reader keeps ahead of ReadPacket;
// past it, TCP flow control slows the server.
const packetQueue = 256

// DialPlay connects to rawurl and plays its stream: connect, createStream,
// SetBufferLength, play. It returns once NetStream.Play.Start arrives, or
// with a *StatusError (NetStream.Play.StreamNotFound...) or the reason the
// connection ended.
func DialPlay(ctx context.Context, rawurl string, cfg *ClientConfig) (*Player, error) {
	u, err := ParseURL(rawurl)
	if err != nil {
		return nil, err
	}
	if u.Stream == "" {
		return nil, fmt.Errorf("%w: %q names no stream to play", ErrURL, rawurl)
	}
	p := &Player{client: *newClient(u, cfg), name: u.Stream, packets: make(chan Packet, packetQueue)}
	if err := p.dial(ctx, DefaultPlayFlashVer); err != nil {
		return nil, err
	}
	go p.readLoop()
	if err := p.start(ctx); err != nil {
		p.conn.Close()
		<-p.done
		return nil, err
	}
	return p, nil
}

func (p *Player) start(ctx context.Context) error {
	if err := p.createStream(ctx); err != nil {
		return err
	}
	buf := p.cfg.BufferLength
	if buf == 0 {
		buf = DefaultBufferLength
	}
	if err := p.SetBufferLength(buf); err != nil {
		return err
	}
	start, duration := -2.0, -1.0
	if p.cfg.Start != 0 {
		start = p.cfg.Start
	}
	if p.cfg.Duration != 0 {
		duration = p.cfg.Duration
	}
	if _, err := p.call(p.streamID, "play", false, p.name, start, duration, !p.cfg.NoReset); err != nil {
		return err
	}
	return p.awaitStart(ctx, "play", message.CodePlayStart)
}

// end closes the packet channel once; reader goroutine only.
func (p *Player) end() {
	if !p.ended {
		p.ended = true
		close(p.packets)
	}
}

// deliver queues a packet unless the stream ended; reader goroutine only.
func (p *Player) deliver(pk Packet) {
	if !p.ended {
		p.packets <- pk
	}
}

func (p *Player) readLoop() {
	defer p.end()
	for {
		m, err := p.conn.ReadMessage()
		if err != nil {
			p.stop(err)
			return
		}
		t := message.Type(m.TypeID)
		switch t {
		case message.TypeAudio, message.TypeVideo:
			p.deliver(Packet{Type: t, Timestamp: m.Timestamp, Payload: p.conn.Detach()})
		case message.TypeDataAMF0, message.TypeDataAMF3:
			p.data(Packet{Type: t, Timestamp: m.Timestamp, Payload: p.conn.Detach()}, m.StreamID)
		case message.TypeAggregate:
			it := message.NewAggregateIterator(p.conn.Detach(), m.Timestamp)
			for it.Next() {
				sub := it.Message()
				pk := Packet{Type: sub.Type, Timestamp: sub.Timestamp, Payload: sub.Payload}
				if pk.Type == message.TypeDataAMF0 || pk.Type == message.TypeDataAMF3 {
					p.data(pk, sub.StreamID)
				} else {
					p.deliver(pk)
				}
			}
			if err := it.Err(); err != nil {
				p.stop(err)
				return
			}
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
			cmd, err := message.UnmarshalCommand(t, m.Payload)
			if err != nil {
				p.stop(err)
				return
			}
			if ev, ok := p.handleCommand(cmd); ok && ev.Kind == EventStatus {
				switch ev.Code {
				case message.CodePlayStop, message.CodePlayComplete:
					p.end()
				case message.CodePlayUnpublishNotify:
					if !p.cfg.ContinueAfterUnpublish {
						p.end()
					}
				case message.CodeSeekNotify, message.CodePauseNotify, message.CodeUnpauseNotify, message.CodePlayStart:
					p.smu.Lock()
					p.seeking = false
					p.smu.Unlock()
				}
			}
		case message.TypeUserControl:
			if ev, ok := p.userControl(m.Payload); ok && ev.Kind == EventStreamEOF && ev.StreamID == p.streamID {
				p.smu.Lock()
				seeking := p.seeking
				p.smu.Unlock()
				if !seeking {
					p.end()
				}
			}
		}
	}
}

// data delivers a data packet, unless it is one of the messages a server
// sends to start playback rather than part of the published stream:
// |RtmpSampleAccess and onStatus (NetStream.Data.Start) become events.
// Reader goroutine only.
func (p *Player) data(pk Packet, streamID uint32) {
	if ev, ok := playbackEvent(pk, streamID); ok {
		p.pushEvent(ev)
		return
	}
	p.deliver(pk)
}

// playbackEvent recognises |RtmpSampleAccess and onStatus data messages by
// their name, peeked without decoding (other data, such as a large
// onMetaData, is passed on untouched), and turns them into events.
func playbackEvent(pk Packet, streamID uint32) (ClientEvent, bool) {
	switch string(dataName(pk.Type, pk.Payload)) {
	case message.RtmpSampleAccess, message.NameOnStatus:
	default:
		return ClientEvent{}, false
	}
	d, err := message.UnmarshalData(pk.Type, pk.Payload)
	if err != nil {
		return ClientEvent{}, false
	}
	ev := ClientEvent{Kind: EventSampleAccess, StreamID: streamID, Timestamp: pk.Timestamp, Data: d}
	if name, _ := d.Name(); name == message.NameOnStatus {
		ev.Kind = EventStatus
		if len(d.Values) > 1 {
			if st, ok := message.ParseStatus(d.Values[1]); ok {
				ev.Level, ev.Code, ev.Description, ev.Info = st.Level, st.Code, st.Description, st.Props
			}
		}
	}
	return ev, true
}

// dataName returns the name a data message starts with when it is an AMF0
// string (after type 15's format selector), else nil. It aliases b.
func dataName(t message.Type, b []byte) []byte {
	if t == message.TypeDataAMF3 {
		if len(b) == 0 || b[0] != 0 {
			return nil
		}
		b = b[1:]
	}
	// AMF0 §2.4: string-marker (0x02), U16 length, UTF-8 bytes.
	if len(b) < 3 || b[0] != byte(amf0.MarkerString) {
		return nil
	}
	n := int(b[1])<<8 | int(b[2])
	if len(b) < 3+n {
		return nil
	}
	return b[3 : 3+n]
}

// ReadPacket returns the next audio, video or data packet with its
// timestamp. The data messages a server sends when play starts are not part
// of the stream: |RtmpSampleAccess arrives as an EventSampleAccess and
// onStatus NetStream.Data.Start as an EventStatus, from ReadEvent. It returns io.EOF when the stream ends: StreamEOF,
// NetStream.Play.Stop or Complete, NetStream.Play.UnpublishNotify (unless
// ContinueAfterUnpublish), or a clean close; another error when the
// connection failed.
func (p *Player) ReadPacket() (Packet, error) {
	pk, ok := <-p.packets
	if ok {
		return pk, nil
	}
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	if err == nil || err == io.EOF {
		return Packet{}, io.EOF
	}
	select {
	case <-p.done:
		return Packet{}, fmt.Errorf("rtmp: play: %w", err)
	default:
		return Packet{}, io.EOF
	}
}

func (p *Player) streamCall(name string, args ...amf0.Value) error {
	_, err := p.call(p.streamID, name, false, args...)
	return err
}

// Pause pauses (true) or resumes playback at ms.
func (p *Player) Pause(pause bool, ms float64) error {
	p.smu.Lock()
	p.seeking = true
	p.smu.Unlock()
	return p.streamCall("pause", pause, ms)
}

// Seek asks the server to seek to ms.
func (p *Player) Seek(ms float64) error {
	p.smu.Lock()
	p.seeking = true
	p.smu.Unlock()
	return p.streamCall("seek", ms)
}

// ReceiveAudio and ReceiveVideo turn a media type on or off.
func (p *Player) ReceiveAudio(on bool) error { return p.streamCall("receiveAudio", on) }
func (p *Player) ReceiveVideo(on bool) error { return p.streamCall("receiveVideo", on) }

// SetBufferLength tells the server how many milliseconds the player buffers.
func (p *Player) SetBufferLength(ms uint32) error {
	if err := p.conn.Write(CSIDControl, 0, 0, message.NewSetBufferLength(p.streamID, ms)); err != nil {
		return err
	}
	return p.conn.Flush()
}

// Close stops playing politely: closeStream, deleteStream, a half-close and
// a brief drain.
func (p *Player) Close() error {
	p.streamCall("closeStream")
	p.call(0, "deleteStream", false, float64(p.streamID))
	// Unblock the reader if the caller stopped reading.
	go func() {
		for range p.packets {
		}
	}()
	return p.closeConn()
}
