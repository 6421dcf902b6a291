package ops

import (
	"context"
	"encoding/json"
	"log/slog"
)

// event is an ops event's typed body: it names the fields it requires,
// with their values, for Required.
type event interface {
	required() [][2]string
}

// actionOf is an Action that reads its event strictly into E (Decode),
// refuses it when a required field is blank (Required), and hands the rest
// to do: every action checks its event the same way, in one place.
func actionOf[E event](do func(ctx context.Context, ev E) (any, error)) Action {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev E
		if err := Decode(raw, &ev); err != nil {
			return nil, err
		}
		if err := Required(ev.required()...); err != nil {
			return nil, err
		}
		return do(ctx, ev)
	}
}

// orDiscard is logger, or one that writes nothing when it is nil.
func orDiscard(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}
