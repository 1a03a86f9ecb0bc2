//! The event queue: a binary min-heap on (time, sequence number), packed into one u128 key.
//!
//! **Ordering guarantee:** events pop in time order, and events scheduled for the same
//! microsecond pop in the order they were scheduled (the sequence number breaks ties). So a
//! run never depends on heap internals. Cancelled timers are not searched for: whoever
//! handles an event checks it against a generation counter and drops it if stale.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

#[derive(Debug)]
struct Entry<E> {
    /// The time in the high 64 bits, the sequence number in the low: one comparison.
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn time(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            next_seq: 0,
        }
    }

    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = (u128::from(time.us()) << 64) | u128::from(seq);
        self.heap.push(Entry { key, event });
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(Entry::time)
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time(), e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'c');
        q.push(SimTime(1), 'a');
        q.push(SimTime(5), 'd');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'e');
        let order: String = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, "abcde");
    }

    #[test]
    fn pops_in_time_then_insertion_order_under_churn() {
        // Against a sort of (time, insertion index): interleaved pushes and pops.
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        for n in 0..20_000u32 {
            if next() % 3 == 0 {
                if let Some((t, e)) = q.pop() {
                    popped.push((t.us(), e));
                    reference.sort();
                    expected.push(reference.remove(0));
                }
            } else {
                let t = next() % 500;
                q.push(SimTime(t), n);
                reference.push((t, n));
            }
        }
        assert_eq!(popped, expected);
    }
}
