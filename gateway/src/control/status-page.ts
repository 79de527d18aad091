/**
 * The live status page the admin server serves at `GET /`: one HTML document with its CSS and JS
 * inline and nothing fetched from elsewhere (no CDN; the binary serves everything). It polls
 * `status` (admin-status.ts) every 2 s while visible, computes ingest and forward rates from
 * successive counters (keeping at most 10 minutes, 300 samples, in memory) and draws them as
 * SVG sparklines over the time seen so far, up to those 10 minutes. Made for a phone as much as a desk.
 *
 * Auth: when the admin server wants a bearer token, open `/#token=T`. The page moves the token
 * from the URL fragment (never sent to a server, kept out of logs and referrers) to this tab's
 * sessionStorage, removes it from the address bar, and sends it as `Authorization: Bearer T`.
 * On a 401 the page asks for the token in a field instead.
 *
 * CSP: the inline script and style are allowed by their sha256 hashes (STATUS_PAGE_CSP); the
 * page only connects to its own origin.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root{--bg:#f6f7f9;--fg:#1d2330;--mut:#667085;--card:#fff;--line:#e3e6eb;--ok:#16803c;--bad:#c0262d;--warn:#b45309;--acc:#2563eb}
@media (prefers-color-scheme:dark){:root{--bg:#11151c;--fg:#e6e9ef;--mut:#98a2b3;--card:#1a2029;--line:#2a3140;--ok:#3fb96b;--bad:#f0646a;--warn:#f0a040;--acc:#6b9bff}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.75rem 1rem;border-bottom:1px solid var(--line)}
h1{font-size:1.1rem;margin:0}
.mut{color:var(--mut)}
main{display:grid;gap:.75rem;padding:.75rem;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem}
h2{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--mut);margin:0 0 .4rem}
.big{font-size:1.8rem;font-weight:600;font-variant-numeric:tabular-nums}
.u{font-size:.9rem;font-weight:400;color:var(--mut)}
dl{display:grid;grid-template-columns:auto 1fr;gap:.15rem .75rem;margin:.4rem 0 0}
dt{color:var(--mut)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
svg{display:block;width:100%;height:40px;margin-top:.25rem}
polyline{fill:none;stroke:var(--acc);stroke-width:1.5;vector-effect:non-scaling-stroke}
.bar{height:.5rem;background:var(--line);border-radius:.25rem;overflow:hidden;margin-top:.4rem}
.bar i{display:block;height:100%;width:0;background:var(--acc)}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
ol{margin:.4rem 0 0;padding:0;list-style:none}li{display:flex;justify-content:space-between;gap:.5rem}
li span:first-child{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#auth{padding:1rem;display:none}#auth input{font:inherit;padding:.3rem;width:16rem;max-width:100%}
`;

const SCRIPT = `
(function(){
var KEY='eg-admin-token',MAX=300,SPAN=600000,EVERY=2000,hist=[],timer=0,tok=sessionStorage.getItem(KEY);
var m=/(?:^#|&)token=([^&]*)/.exec(location.hash);
if(m){tok=decodeURIComponent(m[1]);sessionStorage.setItem(KEY,tok);history.replaceState(null,'',location.pathname+location.search);}
function $(id){return document.getElementById(id)}
function set(id,v,cls){var e=$(id);v=String(v);if(e.textContent!==v)e.textContent=v;if(cls!==undefined)e.className=cls}
function num(n){return n==null?'-':Number(n).toLocaleString('en-US')}
function rate(r){return r==null?'-':r<10?r.toFixed(1):Math.round(r).toLocaleString('en-US')}
function bytes(b){if(b==null)return'-';var u=['B','KiB','MiB','GiB','TiB'],i=0;while(b>=1024&&i<4){b/=1024;i++}return(i?b.toFixed(1):b)+' '+u[i]}
function dur(ms){if(ms==null)return'-';var s=Math.floor(ms/1000);if(s<120)return s+' s';if(s<7200)return Math.floor(s/60)+' min';if(s<172800)return(s/3600).toFixed(1)+' h';return(s/86400).toFixed(1)+' d'}
function rates(key){
  var out=[];
  for(var i=1;i<hist.length;i++){var a=hist[i-1],b=hist[i],d=b[key]-a[key],t=(b.t-a.t)/1000;if(d>=0&&t>0)out.push([b.t,d/t])}
  return out}
function recent(key){
  var n=hist.length-1,j=n;
  while(j>0&&n-j<5&&hist[j][key]>=hist[j-1][key])j--;
  if(j===n)return null;var a=hist[j],b=hist[n];return(b[key]-a[key])/((b.t-a.t)/1000)}
function spark(id,vals,now){
  var pts=[],max=0,i,span=Math.min(SPAN,Math.max(1,now-hist[0].t));
  for(i=0;i<vals.length;i++)if(vals[i][1]>max)max=vals[i][1];
  for(i=0;i<vals.length;i++)pts.push((120-(now-vals[i][0])*120/span).toFixed(1)+','+(38-(max>0?vals[i][1]/max*36:0)).toFixed(1));
  $(id).setAttribute('points',pts.join(' '));
  set(id+'-max',vals.length?'last '+dur(span)+', max '+rate(max)+'/s':'')}
function render(s){
  hist.push({t:s.atMs,a:s.ingest.acceptedTotal,f:s.forward.sentTotal});
  while(hist.length>MAX||(hist.length&&hist[0].t<s.atMs-SPAN))hist.shift();
  set('gw',s.gatewayId);set('live','live','ok');set('updated',new Date(s.atMs).toLocaleTimeString());
  set('devices',num(s.devices.connected));
  var ol=$('busiest'),b=s.devices.busiest;ol.textContent='';
  for(var i=0;i<b.length;i++){var li=document.createElement('li'),x=document.createElement('span'),y=document.createElement('span');x.textContent=b[i].deviceId;y.textContent=num(b[i].messages);li.appendChild(x);li.appendChild(y);ol.appendChild(li)}
  set('busiest-win',b.length?'busiest, last '+dur(s.devices.busiestWindowMs):'no publishes lately');
  set('ingest-rate',rate(recent('a')));spark('ingest-chart',rates('a'),s.atMs);
  set('accepted',num(s.ingest.acceptedTotal));set('rejected',num(s.ingest.rejectedTotal),s.ingest.rejectedTotal?'warn':'');
  set('forward-rate',rate(recent('f')));spark('forward-chart',rates('f'),s.atMs);
  set('sent',num(s.forward.sentTotal));set('send-errors',num(s.forward.sendErrorsTotal),s.forward.sendErrorsTotal?'warn':'');
  var bf=s.buffer;set('buf-rows',num(bf.rows));set('buf-bytes',bytes(bf.bytes)+' of '+bytes(bf.maxSizeBytes));
  set('buf-fill',(bf.fill*100).toFixed(bf.fill<0.1?2:1)+' %');$('buf-bar').style.width=Math.min(100,bf.fill*100)+'%';
  set('buf-oldest',dur(bf.oldestAgeMs));set('flow',bf.flow,bf.flow==='open'?'ok':bf.flow==='slowing'?'warn':'bad');
  set('kafka',s.kafka.up?'up':'down','big '+(s.kafka.up?'ok':'bad'));set('kafka-error',s.kafka.lastError||'none');
  set('dead',num(s.deadLetters.total),s.deadLetters.total?'warn':'');set('dead-rows',num(s.deadLetters.rows));
  var why=[];for(var k in s.drops.byReason)if(s.drops.byReason[k])why.push(k+' '+num(s.drops.byReason[k]));
  set('drops',num(s.drops.total)+(why.length?' ('+why.join(', ')+')':''),s.drops.total?'warn':'');
  var c=s.config,r=c.lastResult;
  set('cfg-version',c.version==null?'local file':'v'+c.version);set('cfg-hash',c.hash.slice(0,12));
  set('cfg-last',r?r.state+(r.version!=null?' v'+r.version:'')+(r.code?' '+r.code:''):'none',r?(r.state==='applied'?'ok':r.state==='pending'?'':'bad'):'');
  set('cfg-reason',r&&r.reason?r.reason:'');
  set('uptime',dur(s.uptimeSecs*1000));set('version',s.binaryVersion+' / node '+s.node.replace(/^v/,''));
  set('pipeline',s.pipelineRunning?'':'pipeline rebuilding','warn')}
function fail(msg){set('live',msg,'bad')}
function poll(){
  clearTimeout(timer);if(document.hidden)return;
  var h={Accept:'application/json'};if(tok)h.Authorization='Bearer '+tok;
  fetch('status',{headers:h,cache:'no-store'}).then(function(res){
    if(res.status===401){$('auth').style.display='block';throw new Error('token needed')}
    if(!res.ok)throw new Error('HTTP '+res.status);
    $('auth').style.display='none';return res.json()
  }).then(render).catch(function(e){fail(e&&e.message?e.message:'offline')}).then(function(){timer=setTimeout(poll,EVERY)})}
$('auth-go').addEventListener('click',function(){tok=$('auth-token').value;sessionStorage.setItem(KEY,tok);poll()});
document.addEventListener('visibilitychange',poll);
poll()})();
`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** Content-Security-Policy for the page: nothing but its own inline code (by hash) and its own origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>edge-gateway status</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><header><h1>edge-gateway <span id="gw" class="mut">…</span></h1><span id="live" class="mut">connecting</span><span class="mut">updated <span id="updated">-</span></span><span id="pipeline"></span></header>
<div id="auth"><p>This gateway's admin server needs its token (admin section of the config). Open <code>/#token=…</code> or enter it:</p><input id="auth-token" type="password" autocomplete="off" aria-label="token"> <button id="auth-go" type="button">Use token</button></div>
<main>
<section><h2>Devices connected</h2><div id="devices" class="big">-</div><div id="busiest-win" class="mut"></div><ol id="busiest"></ol></section>
<section><h2>Ingest</h2><div class="big"><span id="ingest-rate">-</span> <span class="u">msg/s</span></div><svg viewBox="0 0 120 40" preserveAspectRatio="none" aria-label="ingest rate, last 10 minutes"><polyline id="ingest-chart"/></svg><div id="ingest-chart-max" class="mut"></div><dl><dt>accepted</dt><dd id="accepted">-</dd><dt>rejected</dt><dd id="rejected">-</dd></dl></section>
<section><h2>Forward to Kafka</h2><div class="big"><span id="forward-rate">-</span> <span class="u">msg/s</span></div><svg viewBox="0 0 120 40" preserveAspectRatio="none" aria-label="forward rate, last 10 minutes"><polyline id="forward-chart"/></svg><div id="forward-chart-max" class="mut"></div><dl><dt>sent</dt><dd id="sent">-</dd><dt>send errors</dt><dd id="send-errors">-</dd></dl></section>
<section><h2>Buffer</h2><div class="big"><span id="buf-fill">-</span> <span class="u">full</span></div><div class="bar"><i id="buf-bar"></i></div><dl><dt>rows</dt><dd id="buf-rows">-</dd><dt>size</dt><dd id="buf-bytes">-</dd><dt>oldest</dt><dd id="buf-oldest">-</dd><dt>flow</dt><dd id="flow">-</dd></dl></section>
<section><h2>Kafka</h2><div id="kafka" class="big">-</div><dl><dt>last error</dt><dd id="kafka-error">-</dd></dl></section>
<section><h2>Dead letters and drops</h2><dl><dt>dead-lettered</dt><dd id="dead">-</dd><dt>in dead_letters</dt><dd id="dead-rows">-</dd><dt>dropped</dt><dd id="drops">-</dd></dl></section>
<section><h2>Config</h2><div id="cfg-version" class="big">-</div><dl><dt>hash</dt><dd id="cfg-hash">-</dd><dt>last push</dt><dd id="cfg-last">-</dd><dt></dt><dd id="cfg-reason" class="mut"></dd><dt>uptime</dt><dd id="uptime">-</dd><dt>version</dt><dd id="version">-</dd></dl></section>
</main><script>${SCRIPT}</script></body></html>
`;

/** Response headers for the page. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': STATUS_PAGE_CSP,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
