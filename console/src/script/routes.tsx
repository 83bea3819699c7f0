export default function ScriptRoutes(_: { path: string }) { return <p>Dreamscript</p>; }
