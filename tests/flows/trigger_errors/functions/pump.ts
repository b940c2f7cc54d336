export default (req: { body: unknown }) => ({ ok: true, got: req.body });
