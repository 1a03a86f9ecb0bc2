//! The state checker: the invariants that must hold at every bucket's end, checked from
//! outside the models that keep them (pool bounds, the database's slots, the fleet and its
//! pools agreeing on which instances are up). A failure is a bug in the engine, reported
//! with the seed that reproduces it.

use super::Simulation;

pub fn check(sim: &Simulation) {
    let seed = sim.cfg.seed;
    let now = sim.now;
    let db = &sim.db;
    assert!(
        db.connections() <= db.usable(),
        "database holds {} connections of {} usable at {now} (seed {seed})",
        db.connections(),
        db.usable()
    );
    let mut held = 0;
    for (i, pool) in sim.pools.pools.iter().enumerate() {
        assert!(
            pool.total() <= pool.bound(),
            "instance {i} pool holds {} connections, max_size {} (seed {seed})",
            pool.total(),
            pool.cfg.max_size
        );
        assert!(
            pool.opening() <= 1,
            "instance {i} opens {} connections at once (seed {seed})",
            pool.opening()
        );
        let up = sim.fleet.is_up(i as u32);
        assert_eq!(
            up,
            pool.is_open(),
            "instance {i}: the fleet says up = {up}, its pool open = {} (seed {seed})",
            pool.is_open()
        );
        assert!(
            up || pool.total() == 0,
            "instance {i} is down but holds {} connections (seed {seed})",
            pool.total()
        );
        // O(idle connections): in builds with debug assertions (the tests) only.
        if cfg!(debug_assertions)
            && let Some(problem) = sim.pools.idle_stack_problem(i as u32)
        {
            panic!("instance {i} idle stack at {now}: {problem} (seed {seed})");
        }
        held += pool.held();
    }
    assert!(
        held >= db.connections(),
        "the database counts {} connections but pools hold {held} at {now} (seed {seed})",
        db.connections()
    );
}
