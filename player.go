package rtmp

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// Player pulls a stream from a server: what DialPlay returns, or Play on a
// connection that already has a stream. ReadPacket is called from one
// goroutine; the control methods and ReadEvent may be called from others.
type Player struct {
	client
	// packets is sent to and closed by the connection's reading goroutine
	// only; quit is closed by Close.
	packets chan Packet
	quit    chan struct{}
	over    bool // reader goroutine
	// seeking counts the pauses and seeks in flight (each answered by its
	// notification): the StreamEOF that precedes a seek's notification does
	// not end the stream, even when an earlier pause's answer came first.
	smu     sync.Mutex
	seeking int
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
	c := newClientConn(u, cfg)
	if err := c.dial(ctx, DefaultPlayFlashVer); err != nil {
		return nil, err
	}
	go c.readLoop()
	p, err := c.Play(ctx, u.Stream)
	if err != nil {
		c.conn.Close()
		<-c.done
		return nil, err
	}
	return p, nil
}

// Play plays name on a new NetStream of the same connection
// (createStream, SetBufferLength, play) and returns its Player; the
// streams already open go on. Each stream is closed on its own; the
// connection closes with the last. A refusal (*StatusError) leaves the
// connection and its other streams open. The connection's reader hands
// each player its packets: a player that is not read holds up the others
// once its queue is full.
func (c *clientConn) Play(ctx context.Context, name string) (*Player, error) {
	p := &Player{client: c.newStream(name), packets: make(chan Packet, packetQueue), quit: make(chan struct{})}
	if err := c.add(p); err != nil {
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		c.remove(p)
		close(p.quit)
		return nil, err
	}
	return p, nil
}

func (p *Player) start(ctx context.Context) error {
	if err := p.createStream(ctx, p); err != nil {
		return err
	}
	buf := p.cfg.BufferLength
	if buf == 0 {
		buf = DefaultBufferLength
	}
	if err := p.SetBufferLength(buf); err != nil {
		return err
	}
	v := message.NewPlay(p.name)
	if a := p.cfg.PlayArgs; a != nil {
		v.Start, v.Duration, v.Reset = a.Start, a.Duration, a.Reset
	}
	if err := p.write(p.streamID, v.Command()); err != nil {
		return err
	}
	return p.awaitStart(ctx, "play", message.CodePlayStart)
}

func (p *Player) base() *client { return &p.client }

// end closes the packet channel once; reader goroutine only.
func (p *Player) end() {
	if !p.over {
		p.over = true
		close(p.packets)
	}
}

func (p *Player) ended() { p.end() }

// deliver queues a packet unless the stream ended; reader goroutine only.
func (p *Player) deliver(pk Packet) {
	if !p.over {
		select {
		case p.packets <- pk:
		case <-p.quit:
		}
	}
}

// message takes the player's audio, video, data and aggregates; reader
// goroutine only.
func (p *Player) message(m chunk.Message) {
	t := message.Type(m.TypeID)
	switch t {
	case message.TypeAudio, message.TypeVideo:
		p.deliver(Packet{Type: t, Timestamp: m.Timestamp, Payload: p.payload(m)})
	case message.TypeDataAMF0, message.TypeDataAMF3:
		p.data(Packet{Type: t, Timestamp: m.Timestamp, Payload: withSelector(t, p.payload(m))}, m.StreamID)
	}
}

// payload takes a message's payload from the chunk reader, unless it is a
// sub-message of an aggregate, whose payload the reader already gave up.
func (p *Player) payload(m chunk.Message) []byte {
	if b := p.conn.Detach(); b != nil {
		return b
	}
	return m.Payload
}

// event reacts to the events that end or resume the stream; reader
// goroutine only.
func (p *Player) event(ev ClientEvent) {
	switch ev.Kind {
	case EventStatus:
		if ev.StreamID != p.streamID && ev.StreamID != 0 {
			return
		}
		switch ev.Code {
		case message.CodePlayStop, message.CodePlayComplete:
			p.end()
		case message.CodePlayUnpublishNotify:
			if !p.cfg.ContinueAfterUnpublish {
				p.end()
			}
		case message.CodeSeekNotify, message.CodePauseNotify, message.CodeUnpauseNotify:
			p.smu.Lock()
			p.seeking = max(0, p.seeking-1)
			p.smu.Unlock()
		}
	case EventStreamEOF:
		if ev.StreamID != p.streamID {
			return
		}
		p.smu.Lock()
		seeking := p.seeking > 0
		p.smu.Unlock()
		if !seeking {
			p.end()
		}
	}
}

// data delivers a data packet, unless it is one of the messages a server
// sends to start playback rather than part of the published stream:
// |RtmpSampleAccess and onStatus (NetStream.Data.Start) become events.
// Reader goroutine only.
func (p *Player) data(pk Packet, streamID uint32) {
	if ev, ok := playbackEvent(pk, streamID); ok {
		p.push(p, ev)
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
	d, err := decodeData(pk.Type, pk.Payload)
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
	select {
	case <-p.quit:
		return Packet{}, io.EOF
	default:
	}
	var pk Packet
	ok := false
	select {
	case pk, ok = <-p.packets:
	case <-p.quit:
		return Packet{}, io.EOF
	}
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

func (p *Player) streamCall(cmd message.Command) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.write(p.streamID, cmd)
}

// Pause pauses (true) or resumes playback at ms.
func (p *Player) Pause(pause bool, ms float64) error {
	p.smu.Lock()
	p.seeking++
	p.smu.Unlock()
	return p.streamCall(message.Pause{Pause: pause, Milliseconds: ms}.Command())
}

// Seek asks the server to seek to ms.
func (p *Player) Seek(ms float64) error {
	p.smu.Lock()
	p.seeking++
	p.smu.Unlock()
	return p.streamCall(message.Seek{Milliseconds: ms}.Command())
}

// SendPlay sends another play on the player's stream: the next item of a
// playlist (Reset false) or a new one (Reset true), as §7.2.2.1 allows on a
// NetStream that plays. v.Name is required; the server answers with
// onStatus events (NetStream.Play.Reset, NetStream.Play.Start, ...), read
// with ReadEvent. A server that does not take it may end the stream.
func (p *Player) SendPlay(v message.Play) error {
	v.TransactionID = 0
	return p.streamCall(v.Command())
}

// SendPlay2 sends play2 on the player's stream: a switch of bit rate
// without a break in the timeline (§7.2.2.2), with ActionScript's
// NetStreamPlayOptions in v.Params (streamName, oldStreamName, start, len,
// offset, transition). The server answers with onStatus events.
func (p *Player) SendPlay2(v message.Play2) error {
	v.TransactionID = 0
	return p.streamCall(v.Command())
}

// ReceiveAudio and ReceiveVideo turn a media type on or off.
func (p *Player) ReceiveAudio(on bool) error {
	return p.streamCall(message.ReceiveAudio{Receive: on}.Command())
}
func (p *Player) ReceiveVideo(on bool) error {
	return p.streamCall(message.ReceiveVideo{Receive: on}.Command())
}

// SetBufferLength tells the server how many milliseconds the player buffers.
func (p *Player) SetBufferLength(ms uint32) error {
	if err := p.conn.Write(CSIDControl, 0, 0, message.NewSetBufferLength(p.streamID, ms)); err != nil {
		return err
	}
	return p.conn.Flush()
}

// Close stops playing politely: closeStream, deleteStream and, when it was
// the last stream of its connection, a half-close and a brief drain. Safe
// to call more than once.
func (p *Player) Close() error {
	return p.closeStream(p, func() {
		p.write(p.streamID, named(message.NameCloseStream))
		p.call(0, named(message.NameDeleteStream, float64(p.streamID)), false)
		// Unblock the reader if the caller stopped reading.
		close(p.quit)
	})
}
