package rtmp

import (
	"errors"
	"fmt"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// ErrProtocol marks a peer that broke the command sequence.
var ErrProtocol = errors.New("rtmp: protocol error")

// serverCapabilities is what the connect _result always carries; Enhanced
// RTMP fields come from Server.Capabilities.
const (
	defaultFMSVersion = "FMS/3,5,7,7009"
	fmsCapabilities   = 31
)

// readRequest runs the connect exchange and the commands before publish or
// play, answering them the way common servers do, until the peer publishes
// or plays. It is bounded by RequestTimeout.
func (c *serverConn) readRequest() (*Request, error) {
	s := c.srv
	conn := c.conn
	conn.SetReadDeadline(time.Now().Add(durationOr(s.RequestTimeout, DefaultRequestTimeout)))
	defer conn.SetReadDeadline(time.Time{})
	req := &Request{c: c, RemoteAddr: c.nc.RemoteAddr()}
	connected := false
	var nextStream uint32 = 1
	for {
		m, err := conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		switch t := message.Type(m.TypeID); t {
		case message.TypeUserControl:
			if ev, err := message.UnmarshalUserControl(m.Payload); err == nil && ev.Event == message.EventSetBufferLength {
				req.BufferLength = ev.BufferLength
			}
			continue
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
			cmd, err := message.UnmarshalCommand(t, m.Payload)
			if err != nil {
				return nil, err
			}
			amf3 := t == message.TypeCommandAMF3
			if !connected && cmd.Name != message.NameConnect {
				return nil, fmt.Errorf("%w: %q before connect", ErrProtocol, cmd.Name)
			}
			switch cmd.Name {
			case message.NameConnect:
				if connected {
					return nil, fmt.Errorf("%w: a second connect", ErrProtocol)
				}
				k, err := message.ParseConnect(cmd)
				if err != nil {
					return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
				}
				if err := c.connect(req, k, amf3); err != nil {
					return nil, err
				}
				connected = true
			case message.NameCreateStream:
				id := nextStream
				nextStream++
				c.send(amf3, message.NewCreateStreamResult(cmd.TransactionID, id))
			case message.NameReleaseStream, message.NameCheckBW, message.NameFCUnpublish, message.NameDeleteStream, message.NameCloseStream:
				if cmd.TransactionID != 0 {
					c.reply(amf3, cmd.TransactionID, nil, amf0.Undefined{})
				}
			case message.NameFCPublish:
				// onFCPublish, as FMS and common servers send, then _result.
				fc, _ := message.ParseFCPublish(cmd)
				c.send(amf3, message.NewOnFCPublish(message.CodePublishStart, fc.Name))
				if cmd.TransactionID != 0 {
					c.reply(amf3, cmd.TransactionID, nil, amf0.Undefined{})
				}
			case message.NameGetStreamLength:
				c.reply(amf3, cmd.TransactionID, nil, 0.0)
			case message.NamePublish:
				pub, err := message.ParsePublish(cmd)
				if err != nil {
					// A command-level error: the peer may try again.
					c.sendStatus(m.StreamID, amf3, message.LevelError, message.CodePublishBadName, err.Error(), nil)
					break
				}
				req.Kind, req.StreamID, req.amf3 = KindPublish, m.StreamID, amf3
				req.StreamName, req.RawQuery, req.Query = splitName(pub.Name)
				req.PublishType = pub.Type
				if req.PublishType == "" {
					req.PublishType = message.PublishLive
				}
				return req, conn.Flush()
			case message.NamePlay:
				play, err := message.ParsePlay(cmd)
				if err != nil {
					c.sendStatus(m.StreamID, amf3, message.LevelError, message.CodePlayFailed, err.Error(), nil)
					break
				}
				req.Kind, req.StreamID, req.amf3 = KindPlay, m.StreamID, amf3
				req.StreamName, req.RawQuery, req.Query = splitName(play.Name)
				req.Start, req.Duration, req.Reset = play.Start, play.Duration, play.Reset
				return req, conn.Flush()
			default:
				// A call nobody handles: answer _error so the caller's
				// responder is not left waiting.
				if cmd.TransactionID != 0 {
					c.send(amf3, message.NewErrorResult(cmd.TransactionID, nil, message.NewStatus(message.LevelError, message.CodeCallFailed, "unknown method "+cmd.Name).Object()))
				}
			}
			if err := conn.Flush(); err != nil {
				return nil, err
			}
		}
	}
}

// connect answers the connect command: Window Acknowledgement Size, Set
// Peer Bandwidth, Stream Begin 0, the _result, then Set Chunk Size.
func (c *serverConn) connect(req *Request, k message.Connect, amf3 bool) error {
	s := c.srv
	req.ConnectObject = k.Props
	req.ConnectArgs = k.Args
	req.App = k.App
	req.TcURL = k.TcURL
	req.Capabilities = capabilitiesOf(k)

	conn := c.conn
	if ch, ok := s.Handler.(ConnectHandler); ok {
		if err := ch.ServeConnect(req); err != nil {
			desc := err.Error()
			if d, ok := err.(interface{ Description() string }); ok {
				desc = d.Description()
			}
			c.send(amf3, message.NewErrorResult(k.TransactionID, nil, message.NewStatus(message.LevelError, message.CodeConnectRejected, desc).Object()))
			conn.Flush()
			return fmt.Errorf("%w: %s", ErrConnectRejected, desc)
		}
	}
	if err := conn.SetWindowAckSize(u32Or(s.WindowAckSize, DefaultWindowAckSize)); err != nil {
		return err
	}
	conn.SetPeerBandwidth(u32Or(s.PeerBandwidth, DefaultWindowAckSize), message.LimitDynamic)
	conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(0))
	fms := s.FMSVersion
	if fms == "" {
		fms = defaultFMSVersion
	}
	props := amf0.Object{{Key: "fmsVer", Value: fms}, {Key: "capabilities", Value: float64(fmsCapabilities)}, {Key: "mode", Value: 1.0}}
	if s.Capabilities != nil {
		props = s.Capabilities.AppendTo(props)
	}
	info := message.Status{Level: message.LevelStatus, Code: message.CodeConnectSuccess, Description: "Connection succeeded.",
		Props: amf0.Object{{Key: "objectEncoding", Value: float64(k.ObjectEncoding)}}}
	c.reply(amf3, k.TransactionID, props, info.Object())
	if err := conn.SetChunkSize(u32Or(s.ChunkSize, DefaultChunkSize)); err != nil {
		return err
	}
	return conn.Flush()
}

// send queues a command on the NetConnection (message stream 0), in AMF3
// form (type 17) when the peer sends its commands so.
func (c *serverConn) send(amf3 bool, cmd message.Command) error {
	cmd.AMF3 = amf3
	return c.sendCommand(0, cmd)
}

// reply answers transaction tx with _result, props, info.
func (c *serverConn) reply(amf3 bool, tx float64, props, info amf0.Value) error {
	return c.send(amf3, message.NewResult(tx, props, info))
}
