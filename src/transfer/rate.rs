//! `--bwlimit`: one byte budget shared by every stream of a run. A plain
//! rate (`10M`, `512K`, `1048576`; K, M, G are powers of 1024; a trailing
//! `B`, `i` or `/s` is accepted) or an rclone-style timetable of
//! `HH:MM,RATE` entries (`"08:00,10M 20:00,off"`): from each time of day
//! until the next, that rate applies (the last entry carries over midnight).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A rate: bytes per second, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// No limit.
    Off,
    /// Bytes per second (at least 1).
    BytesPerSec(u64),
}

/// A `--bwlimit` that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    /// Not a rate.
    #[error(
        "--bwlimit: {0:?} is not a rate (a number of bytes per second with an optional K, M or G suffix, or off)"
    )]
    Rate(String),
    /// Not a time of day.
    #[error("--bwlimit: {0:?} is not a time of day (HH:MM)")]
    Time(String),
    /// Entries out of order.
    #[error("--bwlimit: timetable entries must be in increasing time order ({0})")]
    Order(String),
}

/// What `--bwlimit` says, for every time of day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// `(minute of the day, rate)`, increasing; one entry at minute 0 for a plain rate.
    entries: Vec<(u32, Rate)>,
}

fn parse_rate(s: &str) -> Result<Rate, RateError> {
    let bad = || RateError::Rate(s.to_owned());
    let t = s.trim();
    if t.eq_ignore_ascii_case("off") || t == "0" {
        return Ok(Rate::Off);
    }
    let t = t.strip_suffix("/s").unwrap_or(t);
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (digits, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = digits.parse().map_err(|_| bad())?;
    if !n.is_finite() || n <= 0.0 {
        return Err(bad());
    }
    let bytes = n * mult as f64;
    if !(1.0..=1e15).contains(&bytes) {
        return Err(bad());
    }
    Ok(Rate::BytesPerSec(bytes as u64))
}

fn parse_time(s: &str) -> Result<u32, RateError> {
    let bad = || RateError::Time(s.to_owned());
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || s.len() > 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Schedule {
    /// Parses a `--bwlimit` value.
    pub fn parse(s: &str) -> Result<Self, RateError> {
        if !s.contains(',') {
            return Ok(Self {
                entries: vec![(0, parse_rate(s)?)],
            });
        }
        let mut entries: Vec<(u32, Rate)> = Vec::new();
        for item in s.split_whitespace() {
            let (time, rate) = item
                .split_once(',')
                .ok_or_else(|| RateError::Time(item.to_owned()))?;
            let minute = parse_time(time)?;
            if entries.last().is_some_and(|(m, _)| *m >= minute) {
                return Err(RateError::Order(s.to_owned()));
            }
            entries.push((minute, parse_rate(rate)?));
        }
        Ok(Self { entries })
    }

    /// The rate at `minute` of the day.
    pub fn at(&self, minute: u32) -> Rate {
        self.entries
            .iter()
            .rev()
            .find(|(m, _)| *m <= minute)
            .or(self.entries.last())
            .map_or(Rate::Off, |(_, r)| *r)
    }

    /// The rate now (local time).
    pub fn now(&self) -> Rate {
        if self.entries.len() == 1 {
            return self.entries[0].1;
        }
        let t = jiff::Zoned::now();
        self.at(u32::from(t.hour().unsigned_abs()) * 60 + u32::from(t.minute().unsigned_abs()))
    }

    /// The rate for estimates (the highest rate the timetable allows, `Off` if any is off).
    pub fn peak(&self) -> Rate {
        self.entries
            .iter()
            .fold(Rate::BytesPerSec(0), |acc, (_, r)| match (acc, r) {
                (Rate::Off, _) | (_, Rate::Off) => Rate::Off,
                (Rate::BytesPerSec(a), Rate::BytesPerSec(b)) => Rate::BytesPerSec(a.max(*b)),
            })
    }
}

/// How much unused budget carries over (see [`Limiter::take`]).
pub const BURST: Duration = Duration::from_millis(250);

/// The shared budget: every stream asks for its bytes before sending them.
/// Its schedule can be replaced while streams run ([`Limiter::set`]).
#[derive(Debug)]
pub struct Limiter {
    schedule: Mutex<Schedule>,
    /// When the budget is next free.
    next: Mutex<Option<Instant>>,
}

impl Limiter {
    /// A limiter following `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule: Mutex::new(schedule),
            next: Mutex::new(None),
        }
    }

    /// Replaces the schedule; the next reservation follows it.
    pub fn set(&self, schedule: Schedule) {
        *self.schedule.lock().unwrap_or_else(|e| e.into_inner()) = schedule;
    }

    /// The rate now.
    pub fn rate(&self) -> Rate {
        self.schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .now()
    }

    /// Waits until `bytes` may be sent. Reservations are taken in arrival
    /// order against one clock, so the total stays at the rate however many
    /// streams ask.
    /// Returns how long it waited.
    pub async fn take(&self, bytes: u64) -> Duration {
        let Rate::BytesPerSec(rate) = self.rate() else {
            *self.next.lock().unwrap_or_else(|e| e.into_inner()) = None;
            return Duration::ZERO;
        };
        let cost = Duration::from_secs_f64(bytes as f64 / rate as f64);
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            // Budget left unused for up to BURST (the gap between one file
            // and the next) may still be spent: a token bucket BURST deep,
            // so many small files get the rate too. Over any window T the
            // bytes stay within rate × (T + BURST).
            let floor = now.checked_sub(BURST).unwrap_or(now);
            let start = next.map_or(now, |n| n.max(floor));
            *next = Some(start + cost);
            start
        };
        // The bytes are paid for when their time slot ends.
        let before = Instant::now();
        tokio::time::sleep_until(start + cost).await;
        before.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_and_timetables() {
        assert_eq!(
            Schedule::parse("1048576").unwrap().at(0),
            Rate::BytesPerSec(1 << 20)
        );
        assert_eq!(
            Schedule::parse("10M").unwrap().at(0),
            Rate::BytesPerSec(10 << 20)
        );
        assert_eq!(
            Schedule::parse("1.5K").unwrap().at(0),
            Rate::BytesPerSec(1536)
        );
        assert_eq!(
            Schedule::parse("2GiB/s").unwrap().at(0),
            Rate::BytesPerSec(2 << 30)
        );
        assert_eq!(Schedule::parse("off").unwrap().at(0), Rate::Off);
        for bad in ["", "x", "-1", "10Q", "NaN", "0.1"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        let t = Schedule::parse("08:00,10M 20:00,off").unwrap();
        assert_eq!(
            t.at(7 * 60 + 59),
            Rate::Off,
            "before the first entry: the last one carries over"
        );
        assert_eq!(t.at(8 * 60), Rate::BytesPerSec(10 << 20));
        assert_eq!(t.at(19 * 60 + 59), Rate::BytesPerSec(10 << 20));
        assert_eq!(t.at(23 * 60), Rate::Off);
        assert_eq!(t.peak(), Rate::Off);
        assert_eq!(
            Schedule::parse("00:00,1M 12:00,4M").unwrap().peak(),
            Rate::BytesPerSec(4 << 20)
        );
        assert!(Schedule::parse("20:00,1M 08:00,2M").is_err());
        assert!(Schedule::parse("25:00,1M 26:00,2M").is_err());
        assert!(Schedule::parse("08:00,1M 09:00").is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_streams_share_one_budget() {
        let l = std::sync::Arc::new(Limiter::new(Schedule::parse("4M").unwrap()));
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move {
                    for _ in 0..4 {
                        l.take(32 << 10).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // 8 streams × 4 × 32 KiB = 1 MiB at 4 MiB/s: never faster than 0.25 s
        // (the upper bound only guards against a stuck clock on a busy machine).
        let took = start.elapsed().as_secs_f64();
        assert!((0.25..5.0).contains(&took), "{took}");
    }
}
