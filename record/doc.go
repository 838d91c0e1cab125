// Package record writes live streams to FLV files (FLV 10.1 Annex E): a
// recorder is a subscriber of the live hub, attached through its public
// seam (live.Hub.Subscribe) like any player.
//
// A Recorder takes every packet as published (SubscribeOptions.AllCodecs:
// Enhanced RTMP codecs and multitrack tags are recorded as they arrive)
// through a large queue that reports loss (ReportLoss) instead of
// dropping silently; a loss is logged and counted.
//
// # Files
//
// Files are named by Config.Pattern ({app}, {stream}, {time}, {unix},
// {seq}) under Config.Dir and rotated by media time (RotateAfter) or size
// (RotateSize) at a key frame. Each file plays on its own: it starts with
// onMetaData (the publisher's properties, with duration and filesize
// placeholders), the decoder configurations in force (sequence headers,
// codec metadata, multichannel configurations, per track), then a key
// frame at time 0; timestamps are rebased so every file starts at 0. When
// a file closes its duration and filesize are patched in place.
//
// # Failures
//
// Tags are written whole, one Write per batch, at least every
// Config.FlushInterval: a file cut by a crash or SIGKILL ends at a tag
// boundary and plays to the cut. A write error (a full disk) stops that
// recording, never the stream: the file is cut back to its last whole
// tag, patched and closed, and the error is logged, counted (Stats) and
// reported (File.Err, Options.OnFile, Manager.Ended). The files are
// written with flv.Writer, which writes whole tags and patches them.
//
// # Managing recordings
//
// A Manager records every stream of the apps that have a Config, from
// publish to end (its Hooks), and starts or stops the recording of one
// stream on request (Start, Stop: the API's POST /v1/record/start and
// /v1/record/stop); OnFile gets each finished file (an on_record_done
// hook, a metric).
package record
