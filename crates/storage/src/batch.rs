//! [`Batch`]: a set of equally long arrow2 arrays, the unit every layer hands to the next.
//!
//! Unlike `arrow::chunk::Chunk`, a batch knows its row count even with no columns, which
//! `SELECT 1` and `COUNT(*)` over a projection of nothing need.

use arrow::array::Array;
use arrow::chunk::Chunk;

/// An owned arrow2 array; cloning shares the buffers.
pub type ArrayRef = Box<dyn Array>;

/// Rows as columns.
#[derive(Debug, Clone)]
pub struct Batch {
    pub columns: Vec<ArrayRef>,
    pub n_rows: usize,
}

impl Batch {
    /// A batch of the given columns; all must have the same length.
    pub fn new(columns: Vec<ArrayRef>) -> Batch {
        let n_rows = columns.first().map_or(0, |c| c.len());
        debug_assert!(columns.iter().all(|c| c.len() == n_rows), "columns of unequal length");
        Batch { columns, n_rows }
    }

    /// A batch with `n_rows` rows and no columns.
    pub fn empty_with_rows(n_rows: usize) -> Batch {
        Batch { columns: Vec::new(), n_rows }
    }

    pub fn column(&self, col_idx: usize) -> &dyn Array {
        self.columns[col_idx].as_ref()
    }

    /// Rows `offset .. offset + len`, sharing buffers.
    pub fn slice(&self, offset: usize, len: usize) -> Batch {
        Batch { columns: self.columns.iter().map(|c| c.sliced(offset, len)).collect(), n_rows: len }
    }

    /// Keeps only the listed columns, in that order.
    pub fn project(&self, col_idxs: &[usize]) -> Batch {
        Batch { columns: col_idxs.iter().map(|&i| self.columns[i].clone()).collect(), n_rows: self.n_rows }
    }

    pub fn into_chunk(self) -> Chunk<ArrayRef> {
        Chunk::new(self.columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;

    #[test]
    fn slice_and_project() {
        let b = Batch::new(vec![Int32Array::from_slice([1, 2, 3]).boxed(), Int32Array::from_slice([4, 5, 6]).boxed()]);
        let s = b.slice(1, 2).project(&[1]);
        assert_eq!(s.n_rows, 2);
        assert_eq!(s.columns[0].as_any().downcast_ref::<Int32Array>().unwrap().values().as_slice(), &[5, 6]);
        assert_eq!(Batch::empty_with_rows(3).n_rows, 3);
    }
}
