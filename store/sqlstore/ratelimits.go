package sqlstore

import (
	"context"
	"time"
)

// Hit counts one request under key in its window, in one statement, so
// that replicas counting at once never lose a request.
func (s *Store) Hit(ctx context.Context, key string, window time.Time, period time.Duration) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `INSERT INTO rate_limits (key, window_ms, count, expires_ms) VALUES (?, ?, 1, ?)
		ON CONFLICT (key, window_ms) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
		key, ms(window), ms(window.Add(period))).Scan(&n)
	if err != nil {
		return 0, s.errorf("count a request: %w", err)
	}
	return n, nil
}
