//! Maps at runtime against the running kernel: lookup, update, delete,
//! key iteration, batches, per-CPU values, lookup-and-delete (queue pop),
//! freeze; every map created here is gone at the end (census).

use loader::map_ops::{self, Map, UpdateFlags};
use loader::sys::{self, Census};

const HASH: u32 = 1;
const ARRAY: u32 = 2;
const QUEUE: u32 = 22;

fn create(map_type: u32, key: u32, value: u32, max: u32) -> std::os::fd::OwnedFd {
    sys::map_create(&sys::MapCreate {
        map_type: loader::MapType::from_raw(map_type),
        key_size: key,
        value_size: value,
        max_entries: max,
        name: "btfx_rt",
        ..sys::MapCreate::default()
    })
    .unwrap()
}

fn can_bpf() -> bool {
    match sys::probe_bpf() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipping: bpf(2) not permitted: {e}");
            false
        }
    }
}

fn k(v: u32) -> [u8; 4] {
    v.to_ne_bytes()
}

#[test]
fn hash_lookup_update_delete_iterate() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let map = Map::new(create(HASH, 4, 8, 16)).unwrap();
        assert_eq!(map.info().key_size, 4);
        assert_eq!(map.value_len(), 8);
        assert!(!map.is_percpu());
        assert_eq!(map.lookup(&k(1)).unwrap(), None);
        for i in 1..=5u32 {
            map.update(&k(i), &(u64::from(i) * 100).to_ne_bytes(), UpdateFlags::Any)
                .unwrap();
        }
        assert_eq!(
            map.lookup(&k(3)).unwrap(),
            Some(300u64.to_ne_bytes().to_vec())
        );
        // NOEXIST on a present key: EEXIST from the kernel.
        let e = map
            .update(&k(3), &[0; 8], UpdateFlags::NoExist)
            .unwrap_err();
        assert!(e.to_string().contains("File exists"), "{e}");
        // EXIST on an absent key: ENOENT.
        assert!(map.update(&k(9), &[0; 8], UpdateFlags::Exist).is_err());
        // Wrong sizes never reach the kernel.
        let e = map.lookup(&[1, 2]).unwrap_err();
        assert!(e.to_string().contains("key buffer is 2 bytes"), "{e}");
        assert!(map.update(&k(1), &[0; 4], UpdateFlags::Any).is_err());
        let mut keys: Vec<u32> = map
            .keys()
            .map(|k| u32::from_ne_bytes(k.unwrap().try_into().unwrap()))
            .collect();
        keys.sort();
        assert_eq!(keys, [1, 2, 3, 4, 5]);
        assert!(map.delete(&k(2)).unwrap());
        assert!(!map.delete(&k(2)).unwrap());
        let mut e = map.entries().unwrap();
        e.sort();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], (k(1).to_vec(), 100u64.to_ne_bytes().to_vec()));
        // lookup_and_delete on a hash map (kernel 5.14+).
        assert_eq!(
            map.lookup_and_delete(&k(4)).unwrap(),
            Some(400u64.to_ne_bytes().to_vec())
        );
        assert_eq!(map.lookup(&k(4)).unwrap(), None);
        // A borrowed fd works the same.
        let borrowed = Map::new(map.fd()).unwrap();
        assert_eq!(borrowed.keys().count(), 3);
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn batch_ops_on_hash_and_array() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let map = Map::new(create(HASH, 4, 4, 300)).unwrap();
        let n = 250u32;
        let keys: Vec<u8> = (0..n).flat_map(k).collect();
        let vals: Vec<u8> = (0..n).flat_map(|i| k(i * 3)).collect();
        assert_eq!(
            map.update_batch(&keys, &vals, UpdateFlags::Any).unwrap(),
            n as usize
        );
        // Read in chunks of 7 so the cursor is used many times.
        let mut all = map.lookup_batch_all(false, 7).unwrap();
        all.sort();
        assert_eq!(all.len(), n as usize);
        for (i, (key, v)) in all.iter().enumerate() {
            let i = i as u32;
            assert_eq!(key[..], k(i));
            assert_eq!(v[..], k(i * 3));
        }
        // Delete the first 100 keys in one call.
        assert_eq!(map.delete_batch(&keys[..400]).unwrap(), 100);
        assert_eq!(map.keys().count(), 150);
        // Lookup-and-delete batch empties it.
        let got = map.lookup_batch_all(true, 64).unwrap();
        assert_eq!(got.len(), 150);
        assert_eq!(map.keys().count(), 0);

        let arr = Map::new(create(ARRAY, 4, 8, 10)).unwrap();
        arr.update(&k(7), &77u64.to_ne_bytes(), UpdateFlags::Any)
            .unwrap();
        let all = arr.lookup_batch_all(false, 3).unwrap();
        assert_eq!(all.len(), 10, "an array has every index");
        assert_eq!(all[7].1, 77u64.to_ne_bytes());
        // Arrays have no deletion: EINVAL.
        assert!(arr.delete(&k(1)).is_err());
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn percpu_values_per_possible_cpu() {
    if !can_bpf() {
        return;
    }
    let cpus = map_ops::possible_cpus().unwrap();
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    assert_eq!(
        Ok(cpus),
        loader::sys::parse_cpu_list(&text).map(|v| v.len())
    );
    let counted = Census::begin().unwrap();
    {
        // A 12-byte value: each CPU's slot is rounded up to 16 bytes.
        let map = Map::new(create(map_ops::PERCPU_HASH, 4, 12, 8)).unwrap();
        assert!(map.is_percpu());
        assert_eq!(map.value_cpus(), cpus);
        assert_eq!(map.value_len(), 16 * cpus);
        let per: Vec<Vec<u8>> = (0..cpus).map(|c| vec![c as u8 + 1; 12]).collect();
        let refs: Vec<&[u8]> = per.iter().map(|v| &v[..]).collect();
        map.update_percpu(&k(5), &refs, UpdateFlags::Any).unwrap();
        assert_eq!(map.lookup_percpu(&k(5)).unwrap(), Some(per.clone()));
        // Wrong number of CPUs is refused before the kernel.
        assert!(map
            .update_percpu(&k(5), &refs[..cpus - 1], UpdateFlags::Any)
            .is_err());
        let all = map.entries().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(map.split_percpu(&all[0].1), per);

        let arr = Map::new(create(map_ops::PERCPU_ARRAY, 4, 8, 4)).unwrap();
        let per: Vec<Vec<u8>> = (0..cpus)
            .map(|c| (c as u64 * 1000 + 1).to_ne_bytes().to_vec())
            .collect();
        let refs: Vec<&[u8]> = per.iter().map(|v| &v[..]).collect();
        arr.update_percpu(&k(2), &refs, UpdateFlags::Any).unwrap();
        assert_eq!(arr.lookup_percpu(&k(2)).unwrap(), Some(per));
        assert_eq!(
            arr.lookup_percpu(&k(1)).unwrap(),
            Some(vec![vec![0u8; 8]; cpus])
        );
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}

#[test]
fn queue_pop_and_freeze() {
    if !can_bpf() {
        return;
    }
    let counted = Census::begin().unwrap();
    {
        let q = Map::new(create(QUEUE, 0, 4, 4)).unwrap();
        for i in [10u32, 20, 30] {
            q.update(&[], &k(i), UpdateFlags::Any).unwrap();
        }
        // Peek does not remove; pop (lookup_and_delete) does, in FIFO order.
        assert_eq!(q.lookup(&[]).unwrap(), Some(k(10).to_vec()));
        assert_eq!(q.lookup_and_delete(&[]).unwrap(), Some(k(10).to_vec()));
        assert_eq!(q.lookup_and_delete(&[]).unwrap(), Some(k(20).to_vec()));

        let arr = Map::new(create(ARRAY, 4, 4, 2)).unwrap();
        arr.update(&k(0), &k(1), UpdateFlags::Any).unwrap();
        arr.freeze().unwrap();
        let e = arr.update(&k(0), &k(2), UpdateFlags::Any).unwrap_err();
        assert!(e.to_string().contains("Operation not permitted"), "{e}");
        assert_eq!(arr.lookup(&k(0)).unwrap(), Some(k(1).to_vec()));
    }
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
