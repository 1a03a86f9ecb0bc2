//! A vector with a free list: entities refer to each other by index, and an index stays
//! valid while its slot is live. Removed slots keep their last value until reused, so a
//! scan over every slot sees freed ones in the state they were left in (each model marks
//! its entities finished before freeing them).

#[derive(Debug)]
pub struct Slab<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }

    pub fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = item;
                i
            }
            None => {
                self.items.push(item);
                (self.items.len() - 1) as u32
            }
        }
    }

    pub fn remove(&mut self, i: u32) {
        self.free.push(i);
    }

    /// How many slots are live.
    pub fn live(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// Every slot ever used, live or freed, with its index.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &T)> {
        self.items.iter().enumerate().map(|(i, t)| (i as u32, t))
    }

    pub fn slots_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.items.iter_mut()
    }
}

impl<T> std::ops::Index<u32> for Slab<T> {
    type Output = T;
    fn index(&self, i: u32) -> &T {
        &self.items[i as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, i: u32) -> &mut T {
        &mut self.items[i as usize]
    }
}
