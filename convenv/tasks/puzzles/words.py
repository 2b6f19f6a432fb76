"""Word lists for WordGuess, written for this project: common English words, lower case, by length.

No word that the scripted teachers or the task prompt use is listed (the whole-word leak check would flag it).
"""

from __future__ import annotations

_WORDS_4 = """
able acid aged also area army away baby back ball band bank base bath bear beat been beer bell belt best bird
blow blue boat body bone book boot born boss both bowl burn busy cake call calm came camp card care case cash
cast cell chef chip city clay club coal coat code cold come cook cool copy corn cost crew crop dark data date
dawn deal dear deep deer desk diet dirt dish dock door dose down draw drop drum duck dust duty earn ease east
easy edge else even ever exit face fact fair fall farm fast fate fear feed feel feet fell felt file fill film
fine fire firm fish five flag flat flow food foot form fort four free frog fuel full fund gain game gate gave
gear gift girl glad glow goal goat gold golf gone good gray grew grid grow hair half hall hand hang hard harm
head heal hear heat held help herb here hero high hill hint hold hole home hope horn host hour huge hung hunt
idea inch iron item jazz join joke jump jury just keen keep kept kick kind king kiss kite knee knew knot know
lack lady lake lamp land lane last late lazy lead leaf lean left lend lens less life lift like lime link lion
list live load loan lock long look lord lose loss lost loud love luck made mail main make male many mask mass
meal mean meat meet melt menu mild milk mill mind mine miss mist mode mood moon more most move much must nail
name navy near neat neck need nest news next nice nine none nose note oven over pace pack page paid pain pair
palm park part pass past path peak pear pick pile pine pink pipe plan play plot plug plus poem poet pole pool
poor port pose post pour pull pump pure push quiz race rain rank rare rate read real rely rent rest rice rich
ride ring rise risk road rock role roll roof room root rope rose rule rush safe sail salt same sand save seat
seed seek seem seen self sell send ship shoe shop shot show shut sick side sign silk sing sink site size skin
slow snow soap sock soft soil sold sole some song soon sort soup sour spin star stay step stop such suit sure
swim tail take tale talk tall tank tape task team tear tell tent term test text than them then they thin tide
tile time tiny tone tool tour town tree trip true tune turn twin type unit upon used user vast very vote wage
wait wake walk wall want warm wash wave weak wear week went west what when wide wife wild wind wine wing wire
wise wish wolf wood wool work yard yarn year zero zone
"""

_WORDS_5 = """
about above actor acute adapt admit adopt adult agent agree ahead alarm album alert alike alive allow alone
along alter amber amuse angel anger angle angry ankle apart apple apply arena argue arise armor array arrow
aside asset avoid awake award aware bacon badge baker basic basin beach beard beast begin being belly below
bench berry birth black blade blame blank blast blaze blend bless blind block blood bloom board boast bonus
boost booth brain brake brand brass brave bread break brick bride brief bring broad brook brown brush build
built bunch burst buyer cabin cable camel canal candy canoe cargo carry catch cause cedar chain chair chalk
charm chart chase cheap check cheek cheer chess chest chick chief child chill china choir civic claim class
clean clear clerk click cliff climb clock close cloth cloud clown coach coast cocoa colon color coral couch
count court cover crack craft crane crash crazy cream creek crest crisp cross crowd crown crude cruel crust
curve cycle daily dairy daisy dance dealt debut decay delay delta dense depth diary dirty ditch dizzy dodge
donor doubt dough dozen draft drain drama drawn dream dress dried drift drill drink drive drove dwarf eager
eagle early earth easel eaten eight elbow elder elect elite empty enemy enjoy enter entry equal error essay
event exact exist extra fable faint fairy faith false fancy feast fence ferry fever fiber field fifth fifty
fight final flame flash fleet flesh float flock flood floor flour fluid flute focus force forge forth forty
forum frame fresh front frost fruit funny gauge ghost giant given glass globe glove goose grace grade grain
grand grant grape graph grasp grass grave gravy great greed green greet grief grill grind group grove guard
guest guide habit happy harsh haven heart heavy hedge hello hinge hobby honey honor horse hotel house human
humor hurry ideal image index inner input irony issue ivory jelly jewel joint judge juice kayak knife knock
label labor large laser later laugh layer learn lease least leave lemon level lever light limit linen liver
lobby local lodge logic loose lover lower loyal lucky lunar lunch magic major maker mango maple march marsh
match mayor meant medal media melon mercy merge merit metal meter midst might minor mixed model moist money
month moral motor mount mouse mouth movie muddy music naive nerve never night ninth noble noise north novel
nurse nylon ocean offer often olive onion opera orbit order organ other otter ought ounce outer owner oxide
paint panel panic paper party pasta patch pause peace peach pearl pedal penny perch phase phone photo piano
piece pilot pitch pizza place plain plane plant plate plaza plead pluck point polar porch pound power press
price pride prime print prior prize proof proud prove pulse punch pupil purse queen quest quick quiet quilt
quota quote radar radio raise rally ranch range rapid ratio raven reach react ready realm rebel refer reign
relax relay reply rider ridge rifle right rival river roast robin robot rocky rough round route royal rugby
ruler rural salad sauce scale scarf scene scent scope score scout scrap seize sense serve seven shade shake
shape share shark sharp sheep sheet shelf shell shift shine shirt shock shore short shout sight silly since
skate skill skirt skull slate sleep slice slide slope small smart smell smile smoke snack snake solar solid
solve sound south space spare spark speak speed spell spend spice spine spoon sport spray squad stack staff
stage stair stake stamp stand start state steam steel steep stern stick still stock stone stool store storm
story stove straw strip study stuff style sugar suite sunny super swamp sweet swift swing sword table taste
teach teeth thank theme thick thief thing think third thorn three throw thumb tiger tight timer title toast
today token tooth topic torch total touch tough tower track trade trail train treat trend trial tribe trick
truck truly trunk trust truth tulip twice twist uncle under union unity until upper upset urban usage usual
valid value valve vapor vault video vigor visit vital vivid vocal voice wagon waste watch water whale wheat
wheel where while white whole woman world worry worth woven wrist write wrong yacht yield young youth zebra
"""

_WORDS_6 = """
accept access across action active actual advice advise affect afford agency agenda almost always amount animal
annual anyone appeal appear arcade arctic around arrive artist aspect assist assume attach attend august autumn
avenue backup badger ballet bamboo banana banner barrel basket battle beacon beauty become before behave belong
beside better beyond bishop bitter bonnet border borrow bottle bottom bounce branch breath breeze bridge bright
broken bronze bucket budget buffet bundle burden butter button camera candle canvas carbon career carpet carrot
castle casual cattle center cereal chance change charge cheese cherry choice choose chorus church cinema circle
clever client closet cobalt coffee collar column combat comedy commit common cookie copper corner cotton county
couple course cousin create credit crisis critic cruise custom dancer danger debate decade decide defend degree
demand depend desert design desire detail device dinner direct divide doctor dollar donkey double dragon drawer
driver during easily editor effect effort eleven empire enable energy engine enough ensure entire escape estate
evolve exceed expand expect expert export extend fabric factor fallen family famous farmer father fellow figure
filter finger finish flight flower follow forest forget formal fossil fourth freeze friend frozen future galaxy
garage garden garlic gather gentle ginger global golden ground growth guitar hammer handle happen harbor health
heaven helmet hollow honest hunger hunter island jacket jersey jigsaw jungle junior kettle kidney kitten ladder
launch lawyer leader legend lesson liquid listen little lizard lovely luxury magnet manner marble margin market
master meadow medium member memory method middle minute mirror mobile modern moment monkey mostly mother motion
muscle museum mutual myself narrow nation nature nearby nearly needle nephew normal notice number object obtain
office orange orchid origin output oxygen packet palace parade parent parrot pencil people pepper period permit
person pickle pigeon planet plenty pocket poetry policy polish potato powder prefer pretty priest prince profit
public puzzle rabbit racket random rather reason recent record reduce reform relief remain remote repair repeat
report rescue result retail return review reward rhythm ribbon riddle rocket rubber saddle safety salmon sample
school screen script season second secret select senior series settle shadow shield signal silver simple singer
sister sketch slogan smooth soccer social socket spider spirit spread spring square stable statue steady stream
street stress strict string strong studio summer summit supply surely survey switch symbol system tablet tailor
talent target temple tender tennis thirty thread throat ticket timber tomato tongue toward travel treaty tunnel
turkey turtle twelve unique united unless update valley velvet vendor violin vision volume voyage waffle walnut
wander wealth weekly weight window winner winter wisdom wizard wonder wooden worker writer yellow zipper
"""

WORDS: dict[int, tuple[str, ...]] = {
    4: tuple(_WORDS_4.split()),
    5: tuple(_WORDS_5.split()),
    6: tuple(_WORDS_6.split()),
}
"""Hidden-word candidates by length (4, 5, 6)."""
