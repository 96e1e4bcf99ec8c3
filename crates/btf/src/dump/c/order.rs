//! The topological walk deciding the order of named definitions.
//!
//! libbpf's rule: a link from X to Y is *weak* (a forward declaration of Y
//! is enough at X's definition) when the path goes through a pointer and
//! then reaches a named type; otherwise it is *strong* and Y's full
//! definition must come first. The walk returns that strength, marks the
//! kinds whose answer cannot change (INT, FLOAT, PTR, named definitions) as
//! ordered, and queues each named definition after everything it strongly
//! needs. A strong cycle (a struct embedding itself) cannot be written in C
//! and is an error, as in libbpf ("unsatisfiable type cycle").

use super::{too_deep, unsupported, CDumper, MAX_NESTING, ORDERED, ORDERING};
use crate::{Error, Kind, Result, TypeId};

impl CDumper<'_, '_> {
    /// Orders `id`; `Ok(true)` for a strong link, `Ok(false)` for a weak one.
    pub(super) fn order_type(&mut self, id: u32, through_ptr: bool, depth: u32) -> Result<bool> {
        if depth > MAX_NESTING {
            return Err(too_deep(id));
        }
        let st = self.state(id).order();
        if st == ORDERED {
            return Ok(true);
        }
        let t = self.ty(id);
        if st == ORDERING {
            if t.kind().is_composite() && through_ptr && !t.name_off().is_anon() {
                return Ok(false);
            }
            return Err(Error::Loop {
                id: TypeId(id),
                kind: t.kind(),
            });
        }
        match t.kind() {
            Kind::Int | Kind::Float => {
                self.state(id).set_order(ORDERED);
                Ok(false)
            }
            Kind::Ptr => {
                let r = self.order_type(t.type_ref().0, true, depth + 1);
                self.state(id).set_order(ORDERED);
                r
            }
            Kind::Array => match t.array() {
                Some(a) => self.order_type(a.elem.0, false, depth + 1),
                None => Ok(false),
            },
            Kind::Struct | Kind::Union => {
                let named = !t.name_off().is_anon();
                if through_ptr && named {
                    return Ok(false);
                }
                self.state(id).set_order(ORDERING);
                for m in t.members() {
                    self.order_type(m.ty.0, false, depth + 1)?;
                }
                if named {
                    self.emit_queue.push(id);
                }
                self.state(id).set_order(ORDERED);
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                let s = *self.state(id);
                if !t.name_off().is_anon() || !s.has(super::REFERENCED) {
                    self.emit_queue.push(id);
                }
                self.state(id).set_order(ORDERED);
                Ok(true)
            }
            Kind::Typedef => {
                let strong = self.order_type(t.type_ref().0, through_ptr, depth + 1)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.emit_queue.push(id);
                self.state(id).set_order(ORDERED);
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.type_ref().0, through_ptr, depth + 1)
            }
            Kind::FuncProto => {
                let mut strong = self.order_type(t.type_ref().0, through_ptr, depth + 1)?;
                for p in t.params() {
                    if self.order_type(p.ty.0, through_ptr, depth + 1)? {
                        strong = true;
                    }
                }
                Ok(strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag => {
                self.state(id).set_order(ORDERED);
                Ok(false)
            }
            Kind::Void => Ok(true),
            k => Err(unsupported(TypeId(id), k)),
        }
    }
}
