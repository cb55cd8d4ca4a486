//! Three-valued logic: Kleene AND / OR and NOT over BooleanArrays.

use arrow::array::BooleanArray;
use arrow::bitmap::Bitmap;
use arrow::datatypes::DataType as ArrowType;

fn parts(a: &BooleanArray) -> (Bitmap, Bitmap) {
    let valid = a.validity().cloned().unwrap_or_else(|| !&Bitmap::new_zeroed(a.len()));
    (a.values().clone(), valid)
}

fn build(values: Bitmap, valid: Bitmap) -> BooleanArray {
    let validity = if valid.unset_bits() == 0 { None } else { Some(valid) };
    BooleanArray::new(ArrowType::Boolean, values, validity)
}

/// Kleene AND: false wins over NULL.
pub fn and_kleene(lhs: &BooleanArray, rhs: &BooleanArray) -> BooleanArray {
    let (lv, lk) = parts(lhs);
    let (rv, rk) = parts(rhs);
    let l_true = &lv & &lk;
    let r_true = &rv & &rk;
    let l_false = &!&lv & &lk;
    let r_false = &!&rv & &rk;
    let any_false = &l_false | &r_false;
    let both_true = &l_true & &r_true;
    let valid = &any_false | &both_true;
    build(both_true, valid)
}

/// Kleene OR: true wins over NULL.
pub fn or_kleene(lhs: &BooleanArray, rhs: &BooleanArray) -> BooleanArray {
    let (lv, lk) = parts(lhs);
    let (rv, rk) = parts(rhs);
    let l_true = &lv & &lk;
    let r_true = &rv & &rk;
    let l_false = &!&lv & &lk;
    let r_false = &!&rv & &rk;
    let any_true = &l_true | &r_true;
    let both_false = &l_false & &r_false;
    let valid = &any_true | &both_false;
    build(any_true, valid)
}

/// NOT: NULL stays NULL.
pub fn not(array: &BooleanArray) -> BooleanArray {
    BooleanArray::new(ArrowType::Boolean, !array.values(), array.validity().cloned())
}

/// A selection mask: true exactly where the predicate is true (NULL counts as false).
pub fn true_mask(array: &BooleanArray) -> Bitmap {
    match array.validity() {
        Some(valid) => array.values() & valid,
        None => array.values().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> BooleanArray {
        // Every pair of (true, false, NULL) x (true, false, NULL).
        BooleanArray::from([
            Some(true),
            Some(true),
            Some(true),
            Some(false),
            Some(false),
            Some(false),
            None,
            None,
            None,
        ])
    }
    fn other() -> BooleanArray {
        BooleanArray::from([
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
            None,
        ])
    }

    #[test]
    fn truth_tables() {
        let and = and_kleene(&all(), &other());
        assert_eq!(
            and,
            BooleanArray::from([
                Some(true),
                Some(false),
                None,
                Some(false),
                Some(false),
                Some(false),
                None,
                Some(false),
                None
            ])
        );
        let or = or_kleene(&all(), &other());
        assert_eq!(
            or,
            BooleanArray::from([
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                None,
                Some(true),
                None,
                None
            ])
        );
        assert_eq!(not(&BooleanArray::from([Some(true), None])), BooleanArray::from([Some(false), None]));
        assert_eq!(true_mask(&BooleanArray::from([Some(true), None, Some(false)])).unset_bits(), 2);
    }
}
