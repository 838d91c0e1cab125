package message

import (
	"math"

	"github.com/ertmp/rtmp/amf0"
)

// Typed views of the commands a client sends (§7.2.1.3, §7.2.2, and the
// FMLE commands that OBS and FFmpeg send around publish). Each has a Parse
// function that checks the name and the arguments, and a Command method
// that builds the command with a null command object. Arguments beyond
// those a view defines are not kept: relay the Command itself to keep them.

// CreateStream is createStream (§7.2.1.3). The server answers with
// NewCreateStreamResult.
type CreateStream struct {
	TransactionID float64
}

// ParseCreateStream reads a createStream command.
func ParseCreateStream(c Command) (CreateStream, error) {
	if c.Name != NameCreateStream {
		return CreateStream{}, wrongCommand(c, NameCreateStream)
	}
	return CreateStream{TransactionID: c.TransactionID}, nil
}

// Command returns "createStream", tx, null.
func (v CreateStream) Command() Command {
	return Command{Name: NameCreateStream, TransactionID: v.TransactionID}
}

// Publishing types of publish (§7.2.2.6).
const (
	PublishLive   = "live"
	PublishRecord = "record"
	PublishAppend = "append"
)

// Publish is publish (§7.2.2.6): publish a stream under Name. The server
// answers with onStatus NetStream.Publish.Start (or an error code).
type Publish struct {
	TransactionID float64
	Name          string // "Publishing Name", possibly with a query such as "?key=..."
	Type          string // "Publishing Type": PublishLive, PublishRecord or PublishAppend; "" when absent
}

// ParsePublish reads a publish command. The name is required; the type is
// optional.
func ParsePublish(c Command) (Publish, error) {
	if c.Name != NamePublish {
		return Publish{}, wrongCommand(c, NamePublish)
	}
	name, ok := c.StringArg(0)
	if !ok {
		return Publish{}, argErr(c, "publishing name")
	}
	p := Publish{TransactionID: c.TransactionID, Name: name}
	if len(c.Args) > 1 {
		if p.Type, ok = c.StringArg(1); !ok {
			return Publish{}, argErr(c, "publishing type")
		}
	}
	return p, nil
}

// Command returns "publish", tx, null, name, type (type left out when
// empty).
func (v Publish) Command() Command {
	args := []amf0.Value{v.Name}
	if v.Type != "" {
		args = append(args, v.Type)
	}
	return Command{Name: NamePublish, TransactionID: v.TransactionID, Args: args}
}

// Defaults of play's optional arguments (§7.2.2.1, and ActionScript's
// NetStream.play for reset).
const (
	PlayStartDefault    = -2 // live stream, else recorded, else wait for live
	PlayStartLive       = -1 // only the live stream
	PlayDurationDefault = -1 // until the stream ends
	PlayResetDefault    = true
)

// Play is play (§7.2.2.1).
type Play struct {
	TransactionID float64
	Name          string  // "Stream Name"
	Start         float64 // seconds, or PlayStartDefault / PlayStartLive
	Duration      float64 // seconds, or PlayDurationDefault
	Reset         bool    // flush the playlist
}

// ParsePlay reads a play command. The stream name is required; an absent
// start, duration or reset reads as its default. Reset may be a boolean or
// a number ("An optional Boolean value or number"), true when not 0.
func ParsePlay(c Command) (Play, error) {
	if c.Name != NamePlay {
		return Play{}, wrongCommand(c, NamePlay)
	}
	name, ok := c.StringArg(0)
	if !ok {
		return Play{}, argErr(c, "stream name")
	}
	p := Play{TransactionID: c.TransactionID, Name: name, Start: PlayStartDefault, Duration: PlayDurationDefault, Reset: PlayResetDefault}
	if len(c.Args) > 1 {
		if p.Start, ok = c.NumberArg(1); !ok {
			return Play{}, argErr(c, "start")
		}
	}
	if len(c.Args) > 2 {
		if p.Duration, ok = c.NumberArg(2); !ok {
			return Play{}, argErr(c, "duration")
		}
	}
	if len(c.Args) > 3 {
		if p.Reset, ok = asBool(c.Args[3], true); !ok {
			return Play{}, argErr(c, "reset")
		}
	}
	return p, nil
}

// NewPlay returns a Play of name with the default start, duration and
// reset.
func NewPlay(name string) Play {
	return Play{Name: name, Start: PlayStartDefault, Duration: PlayDurationDefault, Reset: PlayResetDefault}
}

// Command returns "play", tx, null, name, start, duration, reset, leaving
// out the trailing arguments that have their default value.
func (v Play) Command() Command {
	n := 1
	switch {
	case v.Reset != PlayResetDefault:
		n = 4
	case !sameNumber(v.Duration, PlayDurationDefault):
		n = 3
	case !sameNumber(v.Start, PlayStartDefault):
		n = 2
	}
	args := []amf0.Value{v.Name, v.Start, v.Duration, v.Reset}[:n]
	return Command{Name: NamePlay, TransactionID: v.TransactionID, Args: args}
}

func sameNumber(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// Play2 is play2 (§7.2.2.2): switch bit rate without changing the
// timeline. Params holds the properties of ActionScript's
// NetStreamPlayOptions (streamName, oldStreamName, start, len, offset,
// transition).
type Play2 struct {
	TransactionID float64
	Params        amf0.Object
}

// ParsePlay2 reads a play2 command; its parameters must be an object.
func ParsePlay2(c Command) (Play2, error) {
	if c.Name != NamePlay2 {
		return Play2{}, wrongCommand(c, NamePlay2)
	}
	params, ok := c.ObjectArg(0)
	if !ok {
		return Play2{}, argErr(c, "parameters")
	}
	return Play2{TransactionID: c.TransactionID, Params: params}, nil
}

// Command returns "play2", tx, null, params.
func (v Play2) Command() Command {
	params := v.Params
	if params == nil {
		params = amf0.Object{}
	}
	return Command{Name: NamePlay2, TransactionID: v.TransactionID, Args: []amf0.Value{params}}
}

// Pause is pause (§7.2.2.8). The server answers NetStream.Pause.Notify or
// NetStream.Unpause.Notify.
type Pause struct {
	TransactionID float64
	Pause         bool    // true to pause, false to resume
	Milliseconds  float64 // the stream time at the client when paused; 0 when absent
}

// ParsePause reads a pause command. The flag is required, the time
// optional.
func ParsePause(c Command) (Pause, error) {
	if c.Name != NamePause {
		return Pause{}, wrongCommand(c, NamePause)
	}
	flag, ok := c.BoolArg(0)
	if !ok {
		return Pause{}, argErr(c, "pause/unpause flag")
	}
	p := Pause{TransactionID: c.TransactionID, Pause: flag}
	if len(c.Args) > 1 {
		if p.Milliseconds, ok = c.NumberArg(1); !ok {
			return Pause{}, argErr(c, "milliseconds")
		}
	}
	return p, nil
}

// Command returns "pause", tx, null, flag, milliseconds.
func (v Pause) Command() Command {
	return Command{Name: NamePause, TransactionID: v.TransactionID, Args: []amf0.Value{v.Pause, v.Milliseconds}}
}

// Seek is seek (§7.2.2.7). The server answers NetStream.Seek.Notify.
type Seek struct {
	TransactionID float64
	Milliseconds  float64
}

// ParseSeek reads a seek command.
func ParseSeek(c Command) (Seek, error) {
	if c.Name != NameSeek {
		return Seek{}, wrongCommand(c, NameSeek)
	}
	ms, ok := c.NumberArg(0)
	if !ok {
		return Seek{}, argErr(c, "milliseconds")
	}
	return Seek{TransactionID: c.TransactionID, Milliseconds: ms}, nil
}

// Command returns "seek", tx, null, milliseconds.
func (v Seek) Command() Command {
	return Command{Name: NameSeek, TransactionID: v.TransactionID, Args: []amf0.Value{v.Milliseconds}}
}

// ReceiveAudio is receiveAudio (§7.2.2.4): whether to send audio to the
// client.
type ReceiveAudio struct {
	TransactionID float64
	Receive       bool
}

// ParseReceiveAudio reads a receiveAudio command.
func ParseReceiveAudio(c Command) (ReceiveAudio, error) {
	if c.Name != NameReceiveAudio {
		return ReceiveAudio{}, wrongCommand(c, NameReceiveAudio)
	}
	flag, ok := c.BoolArg(0)
	if !ok {
		return ReceiveAudio{}, argErr(c, "bool flag")
	}
	return ReceiveAudio{TransactionID: c.TransactionID, Receive: flag}, nil
}

// Command returns "receiveAudio", tx, null, flag.
func (v ReceiveAudio) Command() Command {
	return Command{Name: NameReceiveAudio, TransactionID: v.TransactionID, Args: []amf0.Value{v.Receive}}
}

// ReceiveVideo is receiveVideo (§7.2.2.5): whether to send video to the
// client.
type ReceiveVideo struct {
	TransactionID float64
	Receive       bool
}

// ParseReceiveVideo reads a receiveVideo command.
func ParseReceiveVideo(c Command) (ReceiveVideo, error) {
	if c.Name != NameReceiveVideo {
		return ReceiveVideo{}, wrongCommand(c, NameReceiveVideo)
	}
	flag, ok := c.BoolArg(0)
	if !ok {
		return ReceiveVideo{}, argErr(c, "bool flag")
	}
	return ReceiveVideo{TransactionID: c.TransactionID, Receive: flag}, nil
}

// Command returns "receiveVideo", tx, null, flag.
func (v ReceiveVideo) Command() Command {
	return Command{Name: NameReceiveVideo, TransactionID: v.TransactionID, Args: []amf0.Value{v.Receive}}
}

// CloseStream is closeStream (§7.2.2), sent on the stream to close. It has
// no arguments.
type CloseStream struct {
	TransactionID float64
}

// ParseCloseStream reads a closeStream command.
func ParseCloseStream(c Command) (CloseStream, error) {
	if c.Name != NameCloseStream {
		return CloseStream{}, wrongCommand(c, NameCloseStream)
	}
	return CloseStream{TransactionID: c.TransactionID}, nil
}

// Command returns "closeStream", tx, null.
func (v CloseStream) Command() Command {
	return Command{Name: NameCloseStream, TransactionID: v.TransactionID}
}

// DeleteStream is deleteStream (§7.2.2.3): the stream with StreamID is
// destroyed. "The server does not send any response."
type DeleteStream struct {
	TransactionID float64
	StreamID      float64
}

// ParseDeleteStream reads a deleteStream command.
func ParseDeleteStream(c Command) (DeleteStream, error) {
	if c.Name != NameDeleteStream {
		return DeleteStream{}, wrongCommand(c, NameDeleteStream)
	}
	id, ok := c.NumberArg(0)
	if !ok {
		return DeleteStream{}, argErr(c, "stream id")
	}
	return DeleteStream{TransactionID: c.TransactionID, StreamID: id}, nil
}

// Command returns "deleteStream", tx, null, stream ID.
func (v DeleteStream) Command() Command {
	return Command{Name: NameDeleteStream, TransactionID: v.TransactionID, Args: []amf0.Value{v.StreamID}}
}

// ReleaseStream is releaseStream, which FMLE, OBS and FFmpeg send before
// publish to free a stream name still held by a previous session.
type ReleaseStream struct {
	TransactionID float64
	Name          string
}

// ParseReleaseStream reads a releaseStream command.
func ParseReleaseStream(c Command) (ReleaseStream, error) {
	tx, name, err := parseNamed(c, NameReleaseStream)
	return ReleaseStream{TransactionID: tx, Name: name}, err
}

// Command returns "releaseStream", tx, null, name.
func (v ReleaseStream) Command() Command { return named(NameReleaseStream, v.TransactionID, v.Name) }

// FCPublish is FCPublish, which FMLE, OBS and FFmpeg send before publish;
// servers answer with onFCPublish (NewOnFCPublish).
type FCPublish struct {
	TransactionID float64
	Name          string
}

// ParseFCPublish reads an FCPublish command.
func ParseFCPublish(c Command) (FCPublish, error) {
	tx, name, err := parseNamed(c, NameFCPublish)
	return FCPublish{TransactionID: tx, Name: name}, err
}

// Command returns "FCPublish", tx, null, name.
func (v FCPublish) Command() Command { return named(NameFCPublish, v.TransactionID, v.Name) }

// FCUnpublish is FCUnpublish, which FMLE, OBS and FFmpeg send when they
// stop publishing.
type FCUnpublish struct {
	TransactionID float64
	Name          string
}

// ParseFCUnpublish reads an FCUnpublish command.
func ParseFCUnpublish(c Command) (FCUnpublish, error) {
	tx, name, err := parseNamed(c, NameFCUnpublish)
	return FCUnpublish{TransactionID: tx, Name: name}, err
}

// Command returns "FCUnpublish", tx, null, name.
func (v FCUnpublish) Command() Command { return named(NameFCUnpublish, v.TransactionID, v.Name) }

func parseNamed(c Command, want string) (float64, string, error) {
	if c.Name != want {
		return 0, "", wrongCommand(c, want)
	}
	name, ok := c.StringArg(0)
	if !ok {
		return 0, "", argErr(c, "stream name")
	}
	return c.TransactionID, name, nil
}

func named(name string, tx float64, stream string) Command {
	return Command{Name: name, TransactionID: tx, Args: []amf0.Value{stream}}
}

func argErr(c Command, field string) error {
	return fieldErr(c.Type(), c.Name+" "+field, ErrArgument)
}
